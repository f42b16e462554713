// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

/// @title BridgeAuth
/// @notice Validator sets, EIP-712 hashing and quorum signature checks of the KLX bridge.
/// @dev Signatures are 65 bytes (r, s, v): low-s only, v in {27, 28}, and an `ecrecover`
///      result of zero is refused. Quorum signers may come in any order; each counts once,
///      a repeated signer and a signer outside the group revert.
abstract contract BridgeAuth {
    /// @notice The keys that authorise actions and controls, and their quorums.
    struct ValidatorSet {
        address processor;
        address[] approvers;
        uint8 approverQuorum;
        address[] listeners;
        uint8 listenerQuorum;
    }

    uint256 internal constant HALF_ORDER = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0;
    uint256 internal constant MAX_GROUP = 64;
    bytes32 private constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 private constant NAME_HASH = keccak256("KlxBridge");
    bytes32 private constant VERSION_HASH = keccak256("1");

    error BadSignatureLength(uint256 length);
    error HighS();
    error BadV(uint8 v);
    error InvalidSignature();
    error UnknownSigner(address signer);
    error DuplicateSigner(address signer);
    error QuorumNotReached(uint256 have, uint256 need);
    error NotProcessor(address signer);
    error InvalidValidatorSet(string reason);

    /// @dev The set in force. Membership is per epoch so a rotation needs no deletions.
    uint64 public epoch;
    address public processor;
    uint8 public approverQuorum;
    uint8 public listenerQuorum;
    address[] internal _approvers;
    address[] internal _listeners;
    mapping(uint64 epoch => mapping(address key => uint256 indexPlusOne)) internal _approverIndex;
    mapping(uint64 epoch => mapping(address key => uint256 indexPlusOne)) internal _listenerIndex;

    /// @notice The EIP-712 domain separator: binds signatures to this chain id and this contract.
    function domainSeparator() public view returns (bytes32) {
        return keccak256(abi.encode(DOMAIN_TYPEHASH, NAME_HASH, VERSION_HASH, block.chainid, address(this)));
    }

    /// @notice The current approvers (the guardians).
    function approvers() external view returns (address[] memory) {
        return _approvers;
    }

    /// @notice The current listeners (they sign rotations with their secp256k1 keys).
    function listeners() external view returns (address[] memory) {
        return _listeners;
    }

    /// @notice Whether `key` is a current approver, i.e. a guardian.
    function isApprover(address key) public view returns (bool) {
        return _approverIndex[epoch][key] != 0;
    }

    /// @notice keccak256 of a validator set, as signed in rotation payloads.
    function hashValidatorSet(ValidatorSet memory s) public pure returns (bytes32) {
        return keccak256(abi.encode(s.processor, s.approvers, s.approverQuorum, s.listeners, s.listenerQuorum));
    }

    function _typedDigest(bytes32 structHash) internal view returns (bytes32) {
        return keccak256(abi.encodePacked("\x19\x01", domainSeparator(), structHash));
    }

    /// @dev Recovers the signer of `digest`; reverts on malformed, high-s or zero-recovering signatures.
    function _recover(bytes32 digest, bytes calldata sig) internal pure returns (address signer) {
        if (sig.length != 65) revert BadSignatureLength(sig.length);
        bytes32 r;
        bytes32 s;
        uint8 v;
        assembly ("memory-safe") {
            r := calldataload(sig.offset)
            s := calldataload(add(sig.offset, 32))
            v := byte(0, calldataload(add(sig.offset, 64)))
        }
        if (uint256(s) > HALF_ORDER) revert HighS();
        if (v != 27 && v != 28) revert BadV(v);
        signer = ecrecover(digest, v, r, s);
        if (signer == address(0)) revert InvalidSignature();
    }

    function _requireProcessor(bytes32 digest, bytes calldata sig) internal view {
        address signer = _recover(digest, sig);
        if (signer != processor) revert NotProcessor(signer);
    }

    /// @dev Counts distinct members of a group among the signers; reverts on strangers and repeats.
    function _countSigners(
        bytes32 digest,
        bytes[] calldata sigs,
        mapping(address => uint256) storage index
    ) internal view returns (uint256 count) {
        uint256 seen; // bit i set: member i already counted (groups have at most 64 members)
        for (uint256 i = 0; i < sigs.length; i++) {
            address signer = _recover(digest, sigs[i]);
            uint256 idx = index[signer];
            if (idx == 0) revert UnknownSigner(signer);
            uint256 bit = 1 << (idx - 1);
            if (seen & bit != 0) revert DuplicateSigner(signer);
            seen |= bit;
            count++;
        }
    }

    function _requireApproverQuorum(bytes32 digest, bytes[] calldata sigs) internal view {
        uint256 have = _countSigners(digest, sigs, _approverIndex[epoch]);
        if (have < approverQuorum) revert QuorumNotReached(have, approverQuorum);
    }

    function _listenerQuorumReached(bytes32 digest, bytes[] calldata sigs) internal view returns (bool) {
        if (sigs.length == 0) return false;
        return _countSigners(digest, sigs, _listenerIndex[epoch]) >= listenerQuorum;
    }

    function _approverQuorumReached(bytes32 digest, bytes[] calldata sigs) internal view returns (bool) {
        if (sigs.length == 0) return false;
        return _countSigners(digest, sigs, _approverIndex[epoch]) >= approverQuorum;
    }

    /// @dev Validates and installs `s` as the set of a new epoch.
    function _installSet(ValidatorSet memory s) internal {
        _validateSet(s);
        uint64 next = epoch + 1;
        epoch = next;
        processor = s.processor;
        approverQuorum = s.approverQuorum;
        listenerQuorum = s.listenerQuorum;
        _approvers = s.approvers;
        _listeners = s.listeners;
        for (uint256 i = 0; i < s.approvers.length; i++) _approverIndex[next][s.approvers[i]] = i + 1;
        for (uint256 i = 0; i < s.listeners.length; i++) _listenerIndex[next][s.listeners[i]] = i + 1;
    }

    /// @dev Strict majorities (2M > K, 2L > N), quorums reachable, at most 64 per group,
    ///      no zero key and no key twice anywhere in the set.
    function _validateSet(ValidatorSet memory s) internal pure {
        uint256 k = s.approvers.length;
        uint256 n = s.listeners.length;
        if (s.processor == address(0)) revert InvalidValidatorSet("zero processor");
        if (k == 0 || k > MAX_GROUP || n == 0 || n > MAX_GROUP) revert InvalidValidatorSet("group size");
        if (2 * uint256(s.approverQuorum) <= k || s.approverQuorum > k) revert InvalidValidatorSet("approver quorum");
        if (2 * uint256(s.listenerQuorum) <= n || s.listenerQuorum > n) revert InvalidValidatorSet("listener quorum");
        address[] memory all = new address[](1 + k + n);
        all[0] = s.processor;
        for (uint256 i = 0; i < k; i++) all[1 + i] = s.approvers[i];
        for (uint256 i = 0; i < n; i++) all[1 + k + i] = s.listeners[i];
        for (uint256 i = 0; i < all.length; i++) {
            if (all[i] == address(0)) revert InvalidValidatorSet("zero key");
            for (uint256 j = 0; j < i; j++) {
                if (all[i] == all[j]) revert InvalidValidatorSet("duplicate key");
            }
        }
    }
}
