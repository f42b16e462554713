// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {Erc20} from "./Erc20.sol";

/// @title KLX as an ERC20 for devnets and tests.
/// @notice Fixed supply, minted once to the treasury given at construction; nothing can
/// mint or burn afterwards. On the hub KLX is native: an ERC20 KLX deposit is a migration
/// (docs: DESIGN.md section 3).
contract KlxToken is Erc20 {
    /// @notice 480,000,000,000 KLX (the hub's supply cap), 18 decimals.
    uint256 public constant TOTAL_SUPPLY = 480_000_000_000 * 1e18;

    error ZeroTreasury();

    constructor(address treasury) Erc20("Kalima KLX", "KLX") {
        if (treasury == address(0)) revert ZeroTreasury();
        _mint(treasury, TOTAL_SUPPLY);
    }
}
