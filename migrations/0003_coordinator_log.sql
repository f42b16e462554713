-- The coordinator's durable log (issue 6; ADR 0017). Presumed commit: the initiation record
-- and the commit decision are forced (synchronous commit); an abort decision, the end record
-- (the row is deleted: the coordinator forgets) and the history are lazy writes.

CREATE TABLE coordinator_epochs (
  epoch       bigint PRIMARY KEY,
  instance    text NOT NULL,
  max_seq     bigint NOT NULL DEFAULT 0,       -- every sequence 1..max_seq of the epoch was issued
  started_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE coordinator_log (
  epoch       bigint NOT NULL,
  seq         bigint NOT NULL,
  kind        text NOT NULL CHECK (kind IN ('xfer', 'migration')),
  source      text NOT NULL,                   -- xfer: the source channel; migration: the chain
  dest        text NOT NULL,                   -- the destination channel
  asset       text NOT NULL,
  amount      numeric(39, 0) NOT NULL,
  sender      text NOT NULL,                   -- xfer: the hub sender; migration: the deposit's refund address
  recipient   text NOT NULL,
  request     bytea,                           -- xfer: the sender's signed request
  event_id    numeric(20, 0),                  -- migration: the attested deposit's event id
  state       text NOT NULL CHECK (state IN ('initiated', 'committed', 'aborted')),
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (epoch, seq)
);
CREATE UNIQUE INDEX coordinator_log_migration ON coordinator_log (source, event_id) WHERE kind = 'migration';

-- Every state a transfer passed through, for status queries after the log forgot it.
CREATE TABLE coordinator_history (
  epoch   bigint NOT NULL,
  seq     bigint NOT NULL,
  step    text NOT NULL,
  detail  text NOT NULL DEFAULT '',
  at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX coordinator_history_id ON coordinator_history (epoch, seq);
