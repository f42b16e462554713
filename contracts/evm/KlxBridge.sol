// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {BridgeControls} from "./BridgeControls.sol";

interface IErc20Like {
    function balanceOf(address account) external view returns (uint256);
    function transfer(address to, uint256 value) external returns (bool);
    function transferFrom(address from, address to, uint256 value) external returns (bool);
}

interface IBridgedToken {
    function mint(address to, uint256 amount) external;
    function burn(address from, uint256 amount) external;
}

/// @title KlxBridge
/// @notice Custody of the KLX bridge on an EVM chain (Ethereum, Polygon). Deposits get
///         consecutive event ids; withdrawals arrive as actions with consecutive ids,
///         each signed by the processor and a quorum of approvers over an EIP-712 payload
///         bound to this chain and this contract, and execute strictly in id order.
///         Operational controls (pause, unpause, token settings, validator rotation) are
///         separate signed entry points with their own nonces, never in the action sequence.
/// @dev The native coin is represented by `NATIVE` (address(0)) in settings and events.
contract KlxBridge is BridgeControls {
    /// @notice What an action does. Nothing else can be done with custody.
    enum ActionKind {
        NoOp, //    consumes the id and moves nothing (hard-override skip)
        Release, // pays out custody: an ERC20, or the native coin when token == NATIVE
        Mint, //    mints a bridged token (the bridge is its minter)
        Burn //     burns a bridged token held by the bridge itself
    }

    /// @notice The signed content of action `actionId` (the id is part of the signed payload).
    struct Action {
        ActionKind kind;
        address token;
        address recipient;
        uint256 amount;
    }

    /// @notice Per-token settings, changed only by approver quorum + processor.
    struct TokenSettings {
        bool allowed; //   deposits accepted
        bool mintBurn; //  a bridged token minted on withdrawal and burnt on deposit
        uint256 dailyCap; // outflow (release + mint) over a rolling 24 h; type(uint256).max = no cap
    }

    struct Outflow {
        uint256 used;
        uint64 updatedAt;
    }


    address public constant NATIVE = address(0);
    uint256 public constant MAX_HUB_RECIPIENT_LENGTH = 64;
    uint256 public constant NATIVE_PAYOUT_GAS = 30_000;
    uint256 public constant TOKEN_PAYOUT_GAS = 200_000;

    bytes32 public constant ACTION_TYPEHASH =
        keccak256("Action(uint64 actionId,uint8 kind,address token,address recipient,uint256 amount)");
    bytes32 public constant TOKEN_SETTINGS_TYPEHASH =
        keccak256("TokenSettings(uint64 nonce,address token,bool allowed,bool mintBurn,uint256 dailyCap)");


    uint64 public nextEventId = 1;
    uint64 public nextActionId = 1;
    uint64 public settingsNonce;

    mapping(address token => TokenSettings) public tokenSettings;
    mapping(address token => Outflow) public outflow;
    /// @notice Deferred releases: custody the bridge holds for a recipient whose payout failed.
    mapping(address token => mapping(address recipient => uint256)) public claimable;
    /// @notice Deferred mints: bridged tokens to mint for a recipient whose mint failed. Kept
    ///         apart from custody claims, so a later change of the token's settings cannot
    ///         turn one kind into the other.
    mapping(address token => mapping(address recipient => uint256)) public mintClaimable;
    /// @notice Sum of `claimable` of a token: held by the bridge but owed, not free custody.
    mapping(address token => uint256) public totalClaimable;


    event Deposit(
        uint64 indexed eventId,
        address indexed token,
        address indexed sender,
        uint256 amount,
        string hubRecipient,
        address refundTo
    );
    event ActionExecuted(
        uint64 indexed actionId,
        bytes32 indexed payloadHash,
        ActionKind kind,
        address token,
        address recipient,
        uint256 amount,
        bool paid,
        uint64 eventId
    );
    event PayoutDeferred(uint64 indexed actionId, address indexed token, address indexed recipient, uint256 amount);
    event NativeTopUp(address indexed from, uint256 amount);
    event Claimed(address indexed token, address indexed recipient, address to, uint256 amount);
    event TokenSettingsChanged(address indexed token, bool allowed, bool mintBurn, uint256 dailyCap, uint64 nonce);

    error ZeroToken();
    error TokenHasNoCode(address token);
    error ZeroAmount();
    error ZeroRecipient();
    error SelfRecipient();
    error DuplicateToken(address token);
    error ClaimToOtherAddress(address token);
    error TokenNotAllowed(address token);
    error BadHubRecipient(uint256 length);
    error ZeroRefundAddress();
    error NothingReceived(address token);
    error TransferFromFailed(address token);
    error ActionOutOfOrder(uint64 actionId, uint64 expected);
    error EmptyBatch();
    error BatchLengthMismatch();
    error NotMintable(address token);
    error MintableNotReleasable(address token);
    error BadBurn(address recipient);
    error InsufficientCustody(address token, uint256 amount, uint256 available);
    error OutflowCapExceeded(address token, uint256 amount, uint256 available);
    error NothingToClaim(address token, address recipient);
    error ClaimFailed(address token, address to);



    /// @param initialSet Processor, approvers, listeners and their quorums (validated: strict majorities, no zero or duplicate key).
    /// @param rotationDelay_ Timelock of validator-set rotations, in seconds.
    /// @param tokens Tokens configured at deployment (NATIVE for the native coin). A token may
    ///        be deployed after the bridge (a bridged token whose minter is this bridge), so
    ///        its code is not required yet; later changes through setTokenSettings require it.
    /// @param settings Their settings, index by index.
    constructor(
        ValidatorSet memory initialSet,
        uint64 rotationDelay_,
        address[] memory tokens,
        TokenSettings[] memory settings
    ) BridgeControls(initialSet, rotationDelay_) {
        if (tokens.length != settings.length) revert BatchLengthMismatch();
        for (uint256 i = 0; i < tokens.length; i++) {
            for (uint256 j = 0; j < i; j++) if (tokens[i] == tokens[j]) revert DuplicateToken(tokens[i]);
            if (tokens[i] == NATIVE && settings[i].mintBurn) revert NotMintable(NATIVE);
            tokenSettings[tokens[i]] = settings[i];
        }
    }

    // ---------------------------------------------------------------- deposits

    /// @notice Plain native-coin transfers are top-ups of custody (a treasury account on the
    ///         hub after a listener-attested balance sync), never deposits: no event id.
    receive() external payable {
        emit NativeTopUp(msg.sender, msg.value);
    }

    /// @notice Deposits an allow-listed ERC20. Credits what the bridge actually received
    ///         (fee-on-transfer tokens credit what arrived) under the next event id.
    /// @param token An allow-listed ERC20 (not NATIVE: use depositNative).
    /// @param amount Amount to transfer from the caller (needs an allowance).
    /// @param hubRecipient The hub address to credit (1 to 64 bytes; checked fully on the hub).
    /// @param refundTo Where a refund goes if the hub cannot credit the recipient.
    /// @return eventId The deposit's event id.
    function deposit(address token, uint256 amount, string calldata hubRecipient, address refundTo)
        external
        nonReentrant
        whenNotPaused
        returns (uint64 eventId)
    {
        if (token == NATIVE) revert ZeroToken();
        if (token.code.length == 0) revert TokenHasNoCode(token);
        if (amount == 0) revert ZeroAmount();
        TokenSettings memory s = tokenSettings[token]; // read before any external call
        if (!s.allowed) revert TokenNotAllowed(token);
        _checkDepositAddresses(hubRecipient, refundTo);
        uint256 before = IErc20Like(token).balanceOf(address(this));
        _safeTransferFrom(token, msg.sender, amount);
        uint256 received = IErc20Like(token).balanceOf(address(this)) - before;
        if (received == 0) revert NothingReceived(token);
        if (s.mintBurn) IBridgedToken(token).burn(address(this), received);
        eventId = _emitDeposit(token, received, hubRecipient, refundTo);
    }

    /// @notice Deposits the native coin (msg.value) under the next event id.
    /// @param hubRecipient The hub address to credit (1 to 64 bytes).
    /// @param refundTo Where a refund goes if the hub cannot credit the recipient.
    /// @return eventId The deposit's event id.
    function depositNative(string calldata hubRecipient, address refundTo)
        external
        payable
        nonReentrant
        whenNotPaused
        returns (uint64 eventId)
    {
        if (msg.value == 0) revert ZeroAmount();
        if (!tokenSettings[NATIVE].allowed) revert TokenNotAllowed(NATIVE);
        _checkDepositAddresses(hubRecipient, refundTo);
        eventId = _emitDeposit(NATIVE, msg.value, hubRecipient, refundTo);
    }

    function _checkDepositAddresses(string calldata hubRecipient, address refundTo) private pure {
        uint256 len = bytes(hubRecipient).length;
        if (len == 0 || len > MAX_HUB_RECIPIENT_LENGTH) revert BadHubRecipient(len);
        if (refundTo == address(0)) revert ZeroRefundAddress();
    }

    function _emitDeposit(address token, uint256 amount, string calldata hubRecipient, address refundTo)
        private
        returns (uint64 eventId)
    {
        eventId = nextEventId++;
        emit Deposit(eventId, token, msg.sender, amount, hubRecipient, refundTo);
    }

    // ---------------------------------------------------------------- actions

    /// @notice The EIP-712 digest signed for action `actionId` (also the payload hash in ActionExecuted).
    function actionDigest(uint64 actionId, Action calldata action) public view returns (bytes32) {
        return _typedDigest(
            keccak256(abi.encode(ACTION_TYPEHASH, actionId, uint8(action.kind), action.token, action.recipient, action.amount))
        );
    }

    /// @notice Executes action `actionId`, which must be the next action id, signed by the
    ///         processor and at least `approverQuorum` distinct approvers.
    /// @param actionId Must equal nextActionId.
    /// @param action The action content.
    /// @param processorSignature The processor's 65-byte signature over actionDigest.
    /// @param approverSignatures Approvers' 65-byte signatures over actionDigest, any order.
    function execute(
        uint64 actionId,
        Action calldata action,
        bytes calldata processorSignature,
        bytes[] calldata approverSignatures
    ) external nonReentrant whenNotPaused {
        _execute(actionId, action, processorSignature, approverSignatures);
    }

    /// @notice Executes consecutive actions firstActionId, firstActionId + 1, ... in one
    ///         transaction, each with its own signatures: all of them or none.
    function executeBatch(
        uint64 firstActionId,
        Action[] calldata actions,
        bytes[] calldata processorSignatures,
        bytes[][] calldata approverSignatures
    ) external nonReentrant whenNotPaused {
        uint256 n = actions.length;
        if (n == 0) revert EmptyBatch();
        if (processorSignatures.length != n || approverSignatures.length != n) revert BatchLengthMismatch();
        // Ids already consumed (e.g. someone executed the batch's first actions alone) are
        // skipped, so copying one action out of a pending batch cannot make the batch fail.
        uint64 next = nextActionId;
        if (firstActionId + uint64(n) <= next) revert ActionOutOfOrder(firstActionId, next);
        for (uint256 i = 0; i < n; i++) {
            uint64 id = firstActionId + uint64(i);
            if (id < next) continue;
            _execute(id, actions[i], processorSignatures[i], approverSignatures[i]);
        }
    }

    function _execute(
        uint64 actionId,
        Action calldata action,
        bytes calldata processorSignature,
        bytes[] calldata approverSignatures
    ) private {
        if (actionId != nextActionId) revert ActionOutOfOrder(actionId, nextActionId);
        bytes32 digest = actionDigest(actionId, action);
        _requireProcessor(digest, processorSignature);
        _requireApproverQuorum(digest, approverSignatures);
        nextActionId = actionId + 1;
        bool paid = _perform(actionId, action);
        emit ActionExecuted(actionId, digest, action.kind, action.token, action.recipient, action.amount, paid, nextEventId++);
    }

    /// @dev Checks and effects first; the single external payout call comes last. A payout
    ///      that fails because of its recipient becomes claimable and the id stays consumed.
    function _perform(uint64 actionId, Action calldata a) private returns (bool paid) {
        if (a.kind == ActionKind.NoOp) return true;
        TokenSettings storage s = tokenSettings[a.token];
        if ((a.kind == ActionKind.Burn || a.kind == ActionKind.Mint) && a.token.code.length == 0) revert TokenHasNoCode(a.token);
        if (a.kind == ActionKind.Burn) {
            if (!s.mintBurn) revert NotMintable(a.token);
            if (a.recipient != address(0)) revert BadBurn(a.recipient);
            IBridgedToken(a.token).burn(address(this), a.amount);
            return true;
        }
        if (a.amount == 0) revert ZeroAmount();
        if (a.recipient == address(0)) revert ZeroRecipient();
        if (a.kind == ActionKind.Mint) {
            if (!s.mintBurn) revert NotMintable(a.token);
            _spendOutflow(a.token, a.amount);
            paid = _callBounded(a.token, 0, abi.encodeCall(IBridgedToken.mint, (a.recipient, a.amount)), TOKEN_PAYOUT_GAS);
        } else {
            if (s.mintBurn) revert MintableNotReleasable(a.token);
            if (a.recipient == address(this)) revert SelfRecipient(); // would book a withdrawal that moves nothing
            uint256 available = _freeCustody(a.token);
            if (a.amount > available) revert InsufficientCustody(a.token, a.amount, available);
            _spendOutflow(a.token, a.amount);
            paid = a.token == NATIVE
                ? _callBounded(a.recipient, a.amount, "", NATIVE_PAYOUT_GAS)
                : _callBounded(a.token, 0, abi.encodeCall(IErc20Like.transfer, (a.recipient, a.amount)), TOKEN_PAYOUT_GAS);
        }
        if (!paid) {
            if (a.kind == ActionKind.Mint) {
                mintClaimable[a.token][a.recipient] += a.amount;
            } else {
                claimable[a.token][a.recipient] += a.amount;
                totalClaimable[a.token] += a.amount;
            }
            emit PayoutDeferred(actionId, a.token, a.recipient, a.amount);
        }
    }

    function _freeCustody(address token) private view returns (uint256) {
        if (token != NATIVE && token.code.length == 0) revert TokenHasNoCode(token);
        uint256 held = token == NATIVE ? address(this).balance : IErc20Like(token).balanceOf(address(this));
        uint256 owed = totalClaimable[token];
        return held > owed ? held - owed : 0;
    }

    /// @dev Rolling 24 h window as a bucket that refills linearly: `used` decays by
    ///      dailyCap per day. Exact arithmetic without overflow for any cap.
    function _spendOutflow(address token, uint256 amount) private {
        uint256 cap = tokenSettings[token].dailyCap;
        if (cap == type(uint256).max) return;
        Outflow storage o = outflow[token];
        uint256 elapsed = block.timestamp - o.updatedAt;
        uint256 used = o.used;
        if (elapsed >= 1 days) {
            used = 0;
        } else {
            uint256 refill = (cap / 1 days) * elapsed + ((cap % 1 days) * elapsed) / 1 days;
            used = used > refill ? used - refill : 0;
        }
        uint256 available = cap > used ? cap - used : 0; // the cap may have been lowered below what is in use
        if (amount > available) revert OutflowCapExceeded(token, amount, available);
        o.used = used + amount;
        o.updatedAt = uint64(block.timestamp);
    }

    /// @notice Outflow still available for `token` right now under its 24 h cap.
    function availableOutflow(address token) external view returns (uint256) {
        uint256 cap = tokenSettings[token].dailyCap;
        if (cap == type(uint256).max) return cap;
        Outflow storage o = outflow[token];
        uint256 elapsed = block.timestamp - o.updatedAt;
        if (elapsed >= 1 days) return cap;
        uint256 refill = (cap / 1 days) * elapsed + ((cap % 1 days) * elapsed) / 1 days;
        uint256 used = o.used > refill ? o.used - refill : 0;
        return cap > used ? cap - used : 0;
    }

    /// @dev A call with bounded gas whose return data is read only up to one word (no
    ///      return-data bomb). Success = the call succeeded and returned nothing (from a
    ///      contract, or any plain value transfer) or a single true word.
    function _callBounded(address target, uint256 value, bytes memory data, uint256 gasLimit) private returns (bool ok) {
        uint256 size;
        uint256 word;
        assembly ("memory-safe") {
            ok := call(gasLimit, target, value, add(data, 32), mload(data), 0, 32)
            size := returndatasize()
            word := mload(0)
        }
        if (!ok) return false;
        if (data.length == 0) return true;
        if (size == 0) return target.code.length > 0;
        return size >= 32 && word == 1;
    }

    function _safeTransferFrom(address token, address from, uint256 amount) private {
        (bool ok, bytes memory ret) =
            token.call(abi.encodeCall(IErc20Like.transferFrom, (from, address(this), amount)));
        if (!ok || (ret.length != 0 && (ret.length < 32 || abi.decode(ret, (uint256)) != 1))) revert TransferFromFailed(token);
    }

    // ---------------------------------------------------------------- claims

    /// @notice Pays the caller what a deferred payout left claimable for them in `token`.
    function claim(address token) external {
        claimTo(token, msg.sender);
    }

    /// @notice Pays what is claimable by the caller in `token` to `to` (for a recipient
    ///         that cannot receive itself, e.g. a blocked address). Reverts if that fails.
    function claimTo(address token, address to) public nonReentrant whenNotPaused {
        if (to == address(0)) revert ZeroRecipient();
        uint256 held = claimable[token][msg.sender];
        uint256 minted = mintClaimable[token][msg.sender];
        if (held == 0 && minted == 0) revert NothingToClaim(token, msg.sender);
        // Custody tokens are paid to the recipient only: redirecting them would let a
        // token's blocked address route around the issuer's blocklist (and get the bridge
        // blocked). The native coin and bridged (minted) tokens may go to another address.
        if (held != 0 && token != NATIVE && to != msg.sender) revert ClaimToOtherAddress(token);
        claimable[token][msg.sender] = 0;
        mintClaimable[token][msg.sender] = 0;
        totalClaimable[token] -= held;
        if (held != 0) {
            bool ok = token == NATIVE
                ? _callBounded(to, held, "", gasleft())
                : _callBounded(token, 0, abi.encodeCall(IErc20Like.transfer, (to, held)), gasleft());
            if (!ok) revert ClaimFailed(token, to);
        }
        if (minted != 0 && !_callBounded(token, 0, abi.encodeCall(IBridgedToken.mint, (to, minted)), gasleft())) {
            revert ClaimFailed(token, to);
        }
        emit Claimed(token, msg.sender, to, held + minted);
    }

    // ---------------------------------------------------------------- controls

    /// @notice Changes a token's allow-listing, kind and 24 h outflow cap; needs the
    ///         processor and the approver quorum.
    function setTokenSettings(
        uint64 nonce,
        address token,
        TokenSettings calldata settings,
        bytes calldata processorSignature,
        bytes[] calldata approverSignatures
    ) external nonReentrant {
        _useNonce(nonce, settingsNonce);
        bytes32 digest = _typedDigest(
            keccak256(abi.encode(TOKEN_SETTINGS_TYPEHASH, nonce, token, settings.allowed, settings.mintBurn, settings.dailyCap))
        );
        _requireProcessor(digest, processorSignature);
        _requireApproverQuorum(digest, approverSignatures);
        settingsNonce = nonce + 1;
        _setToken(token, settings);
        emit TokenSettingsChanged(token, settings.allowed, settings.mintBurn, settings.dailyCap, nonce);
    }

    function _setToken(address token, TokenSettings memory settings) private {
        if (token != NATIVE && token.code.length == 0) revert TokenHasNoCode(token);
        if (token == NATIVE && settings.mintBurn) revert NotMintable(token);
        tokenSettings[token] = settings;
    }

}
