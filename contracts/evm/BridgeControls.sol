// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {BridgeAuth} from "./BridgeAuth.sol";

/// @title BridgeControls
/// @notice The bridge's operational controls, never in the action sequence: guardian pause,
///         quorum unpause, and validator-set rotation (two of three groups, or a key
///         replacing itself) after a timelock announced by an event; plus the reentrancy
///         guard and pause state the rest of the bridge uses.
abstract contract BridgeControls is BridgeAuth {
    struct PendingRotation {
        bytes32 setHash;
        uint64 eta;
        bool selfReplace; // a 2-of-3 rotation may replace a pending self-replace
    }

    uint64 public constant MIN_ROTATION_DELAY = 1 minutes;
    uint64 public constant MAX_ROTATION_DELAY = 30 days;

    bytes32 public constant PAUSE_TYPEHASH = keccak256("Pause(uint64 nonce)");
    bytes32 public constant UNPAUSE_TYPEHASH = keccak256("Unpause(uint64 nonce)");
    bytes32 public constant ROTATION_TYPEHASH = keccak256("Rotation(uint64 nonce,bytes32 setHash)");
    bytes32 public constant SELF_REPLACE_TYPEHASH = keccak256("SelfReplace(uint64 nonce,address oldKey,address newKey)");
    bytes32 public constant CANCEL_ROTATION_TYPEHASH = keccak256("CancelRotation(uint64 nonce,bytes32 setHash)");

    /// @notice Seconds between a rotation's proposal and the earliest moment it can take effect.
    uint64 public immutable rotationDelay;

    bool public paused;

    uint64 public pauseNonce;
    uint64 public unpauseNonce;
    uint64 public rotationNonce;
    uint64 public cancelNonce;

    /// @notice Per-key nonces of self-replacements: one key cannot use up the rotation nonce.
    mapping(address key => uint64) public selfReplaceNonce;

    PendingRotation public pendingRotation;

    uint256 private _lock = 1;

    event Paused(address indexed guardian, uint64 nonce);
    event Unpaused(uint64 nonce);
    event RotationProposed(bytes32 indexed setHash, uint64 eta, uint64 nonce, ValidatorSet set);
    event RotationCancelled(bytes32 indexed setHash, uint64 nonce);
    event RotationExecuted(bytes32 indexed setHash, uint64 epoch);

    error Reentrancy();
    error BridgePaused();
    error NotPaused();
    error BadRotationDelay(uint64 delay);
    error BadNonce(uint64 nonce, uint64 expected);
    error NotGuardian(address signer);
    error RotationAlreadyPending(bytes32 setHash);
    error NoPendingRotation();
    error RotationSetMismatch(bytes32 given, bytes32 pending);
    error RotationTimelocked(uint64 eta, uint64 now_);
    error RotationNotApproved(uint256 groups);
    error NotAMember(address key);

    modifier nonReentrant() {
        if (_lock != 1) revert Reentrancy();
        _lock = 2;
        _;
        _lock = 1;
    }

    modifier whenNotPaused() {
        if (paused) revert BridgePaused();
        _;
    }

    /// @param initialSet Processor, approvers, listeners and their quorums.
    /// @param rotationDelay_ Timelock of rotations: 1 minute to 30 days.
    constructor(ValidatorSet memory initialSet, uint64 rotationDelay_) {
        if (rotationDelay_ < MIN_ROTATION_DELAY || rotationDelay_ > MAX_ROTATION_DELAY) revert BadRotationDelay(rotationDelay_);
        _installSet(initialSet);
        rotationDelay = rotationDelay_;
    }


    function _useNonce(uint64 given, uint64 expected) internal pure {
        if (given != expected) revert BadNonce(given, expected);
    }

    /// @notice Pauses deposits, actions, claims and rotation execution. Any single guardian
    ///         (approver) may pause; anyone may relay the guardian's signature.
    function pause(uint64 nonce, bytes calldata guardianSignature) external {
        _useNonce(nonce, pauseNonce);
        address signer = _recover(_typedDigest(keccak256(abi.encode(PAUSE_TYPEHASH, nonce))), guardianSignature);
        if (!isApprover(signer)) revert NotGuardian(signer);
        pauseNonce = nonce + 1;
        paused = true;
        emit Paused(signer, nonce);
    }

    /// @notice Lifts a pause; needs the approver quorum.
    function unpause(uint64 nonce, bytes[] calldata approverSignatures) external nonReentrant {
        _unpause(nonce, approverSignatures);
    }

    function _unpause(uint64 nonce, bytes[] calldata approverSignatures) private {
        if (!paused) revert NotPaused();
        _useNonce(nonce, unpauseNonce);
        _requireApproverQuorum(_typedDigest(keccak256(abi.encode(UNPAUSE_TYPEHASH, nonce))), approverSignatures);
        unpauseNonce = nonce + 1;
        paused = false;
        emit Unpaused(nonce);
    }


    /// @notice Proposes a new validator set approved by at least two of the three groups of
    ///         the current set: the processor, the listener quorum, the approver quorum. It
    ///         takes effect through executeRotation after rotationDelay.
    function proposeRotation(
        uint64 nonce,
        ValidatorSet calldata newSet,
        bytes calldata processorSignature,
        bytes[] calldata listenerSignatures,
        bytes[] calldata approverSignatures
    ) external nonReentrant {
        _useNonce(nonce, rotationNonce);
        _validateSet(newSet);
        bytes32 setHash = hashValidatorSet(newSet);
        bytes32 digest = _typedDigest(keccak256(abi.encode(ROTATION_TYPEHASH, nonce, setHash)));
        uint256 groups;
        if (processorSignature.length != 0) {
            _requireProcessor(digest, processorSignature);
            groups++;
        }
        if (_listenerQuorumReached(digest, listenerSignatures)) groups++;
        if (_approverQuorumReached(digest, approverSignatures)) groups++;
        if (groups < 2) revert RotationNotApproved(groups);
        rotationNonce = nonce + 1;
        _propose(nonce, setHash, newSet, false);
    }

    /// @notice Proposes replacing one key of the current set by a new key, signed by the key
    ///         being replaced. Timelocked like any rotation.
    function proposeSelfReplace(uint64 nonce, address oldKey, address newKey, bytes calldata oldKeySignature)
        external
        nonReentrant
    {
        _useNonce(nonce, selfReplaceNonce[oldKey]);
        address signer = _recover(
            _typedDigest(keccak256(abi.encode(SELF_REPLACE_TYPEHASH, nonce, oldKey, newKey))), oldKeySignature
        );
        if (signer != oldKey) revert InvalidSignature();
        ValidatorSet memory s = _currentSet();
        bool found;
        if (s.processor == oldKey) (s.processor, found) = (newKey, true);
        for (uint256 i = 0; i < s.approvers.length; i++) if (s.approvers[i] == oldKey) (s.approvers[i], found) = (newKey, true);
        for (uint256 i = 0; i < s.listeners.length; i++) if (s.listeners[i] == oldKey) (s.listeners[i], found) = (newKey, true);
        if (!found) revert NotAMember(oldKey);
        _validateSet(s); // also refuses a newKey that is already a member
        selfReplaceNonce[oldKey] = nonce + 1;
        _propose(nonce, hashValidatorSet(s), s, true);
    }

    /// @dev One pending rotation at a time; a rotation approved by two groups may take the
    ///      place of a pending self-replace (so one key cannot block its own removal).
    function _propose(uint64 nonce, bytes32 setHash, ValidatorSet memory s, bool selfReplace) private {
        PendingRotation memory p = pendingRotation;
        if (p.eta != 0 && (selfReplace || !p.selfReplace)) revert RotationAlreadyPending(p.setHash);
        if (p.eta != 0) emit RotationCancelled(p.setHash, nonce);
        uint64 eta = uint64(block.timestamp) + rotationDelay;
        pendingRotation = PendingRotation(setHash, eta, selfReplace);
        emit RotationProposed(setHash, eta, nonce, s);
    }

    /// @notice Cancels the pending rotation; needs the approver quorum. Works while paused.
    function cancelRotation(uint64 nonce, bytes[] calldata approverSignatures) external nonReentrant {
        _useNonce(nonce, cancelNonce);
        bytes32 setHash = pendingRotation.setHash;
        if (pendingRotation.eta == 0) revert NoPendingRotation();
        _requireApproverQuorum(_typedDigest(keccak256(abi.encode(CANCEL_ROTATION_TYPEHASH, nonce, setHash))), approverSignatures);
        cancelNonce = nonce + 1;
        delete pendingRotation;
        emit RotationCancelled(setHash, nonce);
    }

    /// @notice Installs the pending set once its timelock has passed (anyone may call).
    /// @param newSet The set proposed (its hash must match the pending one).
    function executeRotation(ValidatorSet calldata newSet) external nonReentrant whenNotPaused {
        _executeRotation(newSet);
    }

    /// @notice Lifts a pause (approver quorum over Unpause(nonce)) and installs the due
    ///         pending rotation in the same transaction, so a guardian that keeps re-pausing
    ///         cannot block its own removal.
    function unpauseAndExecuteRotation(uint64 nonce, bytes[] calldata approverSignatures, ValidatorSet calldata newSet)
        external
        nonReentrant
    {
        _unpause(nonce, approverSignatures);
        _executeRotation(newSet);
    }

    function _executeRotation(ValidatorSet calldata newSet) private {
        PendingRotation memory p = pendingRotation;
        if (p.eta == 0) revert NoPendingRotation();
        bytes32 setHash = hashValidatorSet(newSet);
        if (setHash != p.setHash) revert RotationSetMismatch(setHash, p.setHash);
        if (block.timestamp < p.eta) revert RotationTimelocked(p.eta, uint64(block.timestamp));
        delete pendingRotation;
        _installSet(newSet);
        emit RotationExecuted(setHash, epoch);
    }

    function _currentSet() private view returns (ValidatorSet memory) {
        return ValidatorSet(processor, _approvers, approverQuorum, _listeners, listenerQuorum);
    }
}
