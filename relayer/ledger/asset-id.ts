/** What a hub asset id may look like (shared by transaction bodies and config). */
export const ASSET_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9:._/-]{0,63}$/;
