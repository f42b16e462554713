-- Channel ledger: blocks and the state they produce. Applied once per ledger schema
-- (the processors' schema, and each verifying follower's own schema).
-- A block row references its parent (channel, height - 1, hash): a second or zombie
-- writer cannot fork the chain, it fails on the primary key or the foreign key.

CREATE TABLE blocks (
  channel        text    NOT NULL,
  height         bigint  NOT NULL CHECK (height >= 0),
  hash           bytea   NOT NULL CHECK (octet_length(hash) = 32),
  parent_height  bigint  GENERATED ALWAYS AS (CASE WHEN height = 0 THEN NULL ELSE height - 1 END) STORED,
  parent_hash    bytea,
  timestamp_ms   bigint  NOT NULL,
  tx_id          bytea   NOT NULL CHECK (octet_length(tx_id) = 32),
  tx_type        text    NOT NULL,
  tx_sender      text    NOT NULL,
  body           bytea   NOT NULL,          -- the hashed canonical encoding
  signature      bytea   NOT NULL,          -- producer's ed25519 signature
  written_by     text,                      -- diagnostics only (processor instance); not hashed
  written_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (channel, height),
  UNIQUE (channel, height, hash),
  UNIQUE (channel, tx_id),
  CHECK ((height = 0) = (parent_hash IS NULL)),
  FOREIGN KEY (channel, parent_height, parent_hash) REFERENCES blocks (channel, height, hash)
);

CREATE TABLE channel_params (
  channel         text PRIMARY KEY,
  producer        bytea NOT NULL CHECK (octet_length(producer) = 32),
  address_prefix  text  NOT NULL,
  updated_height  bigint NOT NULL
);

CREATE TABLE assets (
  channel         text NOT NULL,
  asset           text NOT NULL,
  decimals        smallint NOT NULL CHECK (decimals BETWEEN 0 AND 36),
  updated_height  bigint NOT NULL,
  PRIMARY KEY (channel, asset)
);

CREATE TABLE balances (
  channel         text NOT NULL,
  address         text NOT NULL,
  asset           text NOT NULL,
  amount          numeric(39, 0) NOT NULL CHECK (amount >= 0),
  updated_height  bigint NOT NULL,
  PRIMARY KEY (channel, address, asset)
);

CREATE TABLE nonces (
  channel         text NOT NULL,
  address         text NOT NULL,
  lane            integer NOT NULL CHECK (lane BETWEEN 0 AND 65535),
  next_nonce      numeric(20, 0) NOT NULL CHECK (next_nonce >= 0),
  updated_height  bigint NOT NULL,
  PRIMARY KEY (channel, address, lane)
);
