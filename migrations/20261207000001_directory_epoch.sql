-- A counter that moves whenever a name the reading page takes from the
-- directory could have changed: people (name, role, whether active),
-- teams, factor categories and themes. The page's cached parts and the
-- people pickers key on it. It replaces summing a hash of every row of
-- those four tables on each view, which grew with the organization.
CREATE SEQUENCE directory_epoch;
CREATE FUNCTION bump_directory_epoch() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM nextval('directory_epoch');
    RETURN NULL;
END
$$;
CREATE TRIGGER directory_epoch AFTER INSERT OR DELETE OR UPDATE OF display_name, role, active ON users
    FOR EACH STATEMENT EXECUTE FUNCTION bump_directory_epoch();
CREATE TRIGGER directory_epoch AFTER INSERT OR DELETE OR UPDATE OF name ON teams
    FOR EACH STATEMENT EXECUTE FUNCTION bump_directory_epoch();
CREATE TRIGGER directory_epoch AFTER INSERT OR DELETE OR UPDATE OF slug, name, merged_into ON factor_categories
    FOR EACH STATEMENT EXECUTE FUNCTION bump_directory_epoch();
CREATE TRIGGER directory_epoch AFTER INSERT OR DELETE OR UPDATE OF slug, name ON themes
    FOR EACH STATEMENT EXECUTE FUNCTION bump_directory_epoch();
