-- Who said or reported a timeline entry (a chat line's author, the alerting
-- system), kept apart from the text so imported lines read as they were
-- written and the speaker can be shown and searched on its own.
ALTER TABLE timeline_entries
    ADD COLUMN speaker text CHECK (speaker IS NULL OR char_length(speaker) BETWEEN 1 AND 100);
