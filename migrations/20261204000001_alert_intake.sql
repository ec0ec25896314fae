-- Alerts from Alertmanager and PagerDuty open and update incidents. A
-- sender's incident (an alert group, a PagerDuty incident) maps to one of
-- ours; each event it reports is kept by its key, so a notification sent
-- twice adds nothing the second time.

CREATE TYPE alert_source AS ENUM ('alertmanager', 'pagerduty');

CREATE TABLE alert_incidents (
    source       alert_source NOT NULL,
    external_key text NOT NULL,
    incident_id  uuid NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL,
    PRIMARY KEY (source, external_key)
);
CREATE INDEX alert_incidents_incident ON alert_incidents (incident_id);

CREATE TABLE alert_events (
    source      alert_source NOT NULL,
    event_key   text NOT NULL,
    incident_id uuid NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    -- The entry it became; kept (as null) when an author deletes the entry,
    -- so a repeat of the event does not bring it back.
    entry_id    uuid REFERENCES timeline_entries (id) ON DELETE SET NULL,
    received_at timestamptz NOT NULL,
    PRIMARY KEY (source, event_key)
);
CREATE INDEX alert_events_incident ON alert_events (incident_id);
