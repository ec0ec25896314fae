-- The blameless review checklist: the organization's settings of its rules,
-- each postmortem's latest result, and the failing checks an author
-- acknowledged when publishing.

-- One row: which rules are on, which block publishing, the phrase lists
-- (domain::checklist::Settings as JSON). Absent: the defaults.
CREATE TABLE checklist_settings (
    id         boolean PRIMARY KEY DEFAULT true CHECK (id),
    settings   jsonb NOT NULL,
    updated_at timestamptz NOT NULL,
    updated_by uuid REFERENCES users (id)
);

-- Written with every revision: how many rules pass, of how many, and which
-- fail (NULL until the postmortem is next saved).
ALTER TABLE postmortems
    ADD COLUMN checklist_passed smallint,
    ADD COLUMN checklist_total smallint,
    ADD COLUMN checklist_failing text[];

-- The failing checks the author acknowledged when publishing.
ALTER TABLE postmortem_revisions ADD COLUMN acknowledged_checks text[];
