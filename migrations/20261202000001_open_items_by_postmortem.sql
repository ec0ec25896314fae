-- The incident list counts each postmortem's open action items. A partial
-- index of just those items answers the count from the index alone, where
-- the count read every item of the postmortem from the table.
CREATE INDEX action_items_open_postmortem ON action_items (postmortem_id)
    WHERE status IN ('open', 'in_progress');
