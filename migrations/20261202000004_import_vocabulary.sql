-- What the importer understands, as an admin keeps it.
-- Heading synonyms: a heading (normalized: lowercase words) and the part of a
-- postmortem its lines go to (a section's field, timeline, factors, actions,
-- severity, stats or notes). They come before the built-in names.
CREATE TABLE import_headings (
    heading    text PRIMARY KEY CHECK (length(heading) BETWEEN 1 AND 200),
    target     text NOT NULL CHECK (length(target) BETWEEN 1 AND 40),
    created_by uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Severity words: a word (lowercase) and the severity it means. Numbers
-- (SEV-2, P1, S3) are read by rule; the words are this table, which starts
-- with the usual ones and is the admin's to change.
CREATE TABLE import_severity_words (
    word       text PRIMARY KEY CHECK (length(word) BETWEEN 1 AND 60),
    severity   severity NOT NULL,
    created_by uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

INSERT INTO import_severity_words (word, severity) VALUES
    ('critical', 'sev1'), ('blocker', 'sev1'), ('major', 'sev1'), ('emergency', 'sev1'),
    ('high', 'sev2'), ('serious', 'sev2'),
    ('medium', 'sev3'), ('moderate', 'sev3'), ('normal', 'sev3'),
    ('low', 'sev4'), ('minor', 'sev4'), ('trivial', 'sev4');
