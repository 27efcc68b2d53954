-- Invites made out to an email are accepted with their token (its hash here).
ALTER TABLE team_invites ADD COLUMN token_hash TEXT;
