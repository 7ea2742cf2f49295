-- Ilot server schema, version 7 (the console's patient page): the feed cursor each device
-- confirmed it applied (the `since` of its latest pull), so the care team sees which messages
-- reached the patient's phone.
ALTER TABLE devices ADD COLUMN pulled_cursor INTEGER;
