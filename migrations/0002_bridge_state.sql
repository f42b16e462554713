-- Bridge state of a channel (chains, attestation votes, actions, claimable and stray
-- funds, custody counters) as canonical records keyed by a path-like key, plus the
-- durable state of the roles that use a ledger schema (listener cursors and halts,
-- submitter write-ahead records). Role tables are updated in the same transaction as
-- the work they record.

CREATE TABLE entries (
  channel         text  NOT NULL,
  key             text  NOT NULL,
  value           bytea NOT NULL,            -- the record's canonical bytes (docs/hub-encoding.md)
  updated_height  bigint NOT NULL,
  PRIMARY KEY (channel, key)
);

-- Listener: where each chain's scan stands, what it attested (for reorg checks), and halts.
CREATE TABLE listener_cursors (
  chain            text PRIMARY KEY,
  block_height     numeric(20, 0) NOT NULL,
  block_hash       text NOT NULL,
  next_event_id    numeric(20, 0),            -- the next event id expected (gap detection)
  custody_floor    jsonb NOT NULL DEFAULT '{}', -- per chain asset: deposits - paid releases seen so far (custody never holds less)
  updated_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE listener_attested_blocks (
  chain            text NOT NULL,
  block_height     numeric(20, 0) NOT NULL,
  block_hash       text NOT NULL,
  PRIMARY KEY (chain, block_height)
);

CREATE TABLE listener_halts (
  chain            text PRIMARY KEY,
  reason           text NOT NULL,
  block_height     numeric(20, 0),
  halted_at        timestamptz NOT NULL DEFAULT now()
);

-- Submitter: a record is written BEFORE its transaction is broadcast, so a crash between
-- send and receipt is resolved by looking this exact transaction up, never by a blind resend.
CREATE TABLE submitter_submissions (
  chain            text NOT NULL,
  tx_hash          text NOT NULL,
  first_action_id  numeric(20, 0) NOT NULL,
  last_action_id   numeric(20, 0) NOT NULL,
  payer_nonce      numeric(20, 0),
  raw              text NOT NULL,
  state            text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'included', 'reverted', 'dropped')),
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (chain, tx_hash)
);
CREATE INDEX submitter_submissions_pending ON submitter_submissions (chain) WHERE state = 'pending';
