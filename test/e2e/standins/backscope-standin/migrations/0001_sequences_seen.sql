-- STAND-IN migration (studyhost e2e): what `flask db upgrade` applies.
CREATE TABLE sequences_seen (id serial PRIMARY KEY, body text NOT NULL);
