// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {Erc20} from "./Erc20.sol";

/// @title Bridged KLX on a chain other than Ethereum (e.g. Polygon).
/// @notice Supply exists only as the bridge mints it against native KLX the hub locks for
/// this chain, and shrinks as the bridge burns it on withdrawal to the hub (DESIGN.md
/// section 5, invariant 1: native KLX locked for a chain = bridged KLX supply there).
/// The bridge is fixed at construction; nobody else can mint or burn.
contract KlxBridgedToken is Erc20 {
    address public immutable bridge;

    error ZeroBridge();
    error OnlyBridge(address caller);

    modifier onlyBridge() {
        if (msg.sender != bridge) revert OnlyBridge(msg.sender);
        _;
    }

    constructor(address bridge_) Erc20("Kalima KLX", "KLX") {
        if (bridge_ == address(0)) revert ZeroBridge();
        bridge = bridge_;
    }

    function mint(address to, uint256 amount) external onlyBridge {
        _mint(to, amount);
    }

    /// @notice Burns `amount` from `from` without an allowance: the bridge is trusted by
    /// construction, and burns only what a user deposited to it or authorised.
    function burn(address from, uint256 amount) external onlyBridge {
        _burn(from, amount);
    }
}
