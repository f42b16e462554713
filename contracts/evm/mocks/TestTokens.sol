// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

// Hostile and unusual tokens and receivers for the bridge's tests. Never deployed outside tests.

import {Erc20} from "../Erc20.sol";

/// @notice Keeps 1% of every transfer (fee-on-transfer).
contract FeeOnTransferToken is Erc20 {
    constructor(address holder, uint256 supply) Erc20("Fee Token", "FEE") {
        _mint(holder, supply);
    }

    function _transfer(address from, address to, uint256 value) internal override {
        uint256 fee = value / 100;
        super._transfer(from, to, value - fee);
        if (fee > 0) _burn(from, fee);
    }
}

/// @notice Reverts transfers to blocked addresses (like a stablecoin blacklist).
contract BlocklistToken is Erc20 {
    mapping(address => bool) public blocked;

    error Blocked(address account);

    constructor(address holder, uint256 supply) Erc20("Blocklist Token", "BLK") {
        _mint(holder, supply);
    }

    function setBlocked(address account, bool value) external {
        blocked[account] = value;
    }

    function _transfer(address from, address to, uint256 value) internal override {
        if (blocked[to] || blocked[from]) revert Blocked(blocked[to] ? to : from);
        super._transfer(from, to, value);
    }
}

/// @notice Calls back into a target during transfers (re-entrancy attempts).
contract ReentrantToken is Erc20 {
    address public target;
    bytes public payload;
    bool public reentered;
    bool public reentrySucceeded;
    bytes public reentryRevert;

    constructor(address holder, uint256 supply) Erc20("Reentrant Token", "RNT") {
        _mint(holder, supply);
    }

    function arm(address target_, bytes calldata payload_) external {
        target = target_;
        payload = payload_;
    }

    function _transfer(address from, address to, uint256 value) internal override {
        super._transfer(from, to, value);
        if (target != address(0) && !reentered) {
            reentered = true;
            (bool ok, bytes memory ret) = target.call(payload);
            reentrySucceeded = ok;
            reentryRevert = ret;
        }
    }
}

/// @notice A native-coin receiver that always reverts.
contract RevertingReceiver {
    receive() external payable {
        revert("no thanks");
    }
}

/// @notice A native-coin receiver that burns all gas it is given.
contract GasGuzzler {
    receive() external payable {
        while (true) {}
    }
}

/// @notice transferFrom that lies: mode 1 returns true and moves nothing, mode 2 returns false.
contract LyingToken is Erc20 {
    uint8 public mode;

    constructor(address holder, uint256 supply) Erc20("Lying Token", "LIE") {
        _mint(holder, supply);
    }

    function setMode(uint8 m) external {
        mode = m;
    }

    function transferFrom(address from, address to, uint256 value) public override returns (bool) {
        if (mode == 1) return true;
        if (mode == 2) return false;
        return super.transferFrom(from, to, value);
    }
}
