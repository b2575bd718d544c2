-- 0017: a member who loses access reads from the primary at once (read replica).
--
-- With CONFER_REPLICA_URL, a session that has not written reads from the replica, which
-- may be a moment behind. A member removed from a group, or from a conversation, or whose
-- role or network changes, must not go on reading what they no longer may there: the
-- change stamps every live session of theirs in the same transaction, as their own write
-- would, so that their reads go to the primary for CONFER_REPLICA_WINDOW, by which time
-- the replica has the change (0016, server/replica.h).
CREATE FUNCTION cf_stamp_member_sessions() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'users' THEN
        UPDATE sessions SET wrote_at = now() WHERE user_id = OLD.id AND ended_at IS NULL;
    ELSE
        UPDATE sessions SET wrote_at = now() WHERE user_id = OLD.user_id AND ended_at IS NULL;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER group_members_revoke AFTER DELETE OR UPDATE ON group_members
    FOR EACH ROW EXECUTE FUNCTION cf_stamp_member_sessions();
CREATE TRIGGER conversation_participants_revoke AFTER DELETE ON conversation_participants
    FOR EACH ROW EXECUTE FUNCTION cf_stamp_member_sessions();
CREATE TRIGGER users_access_change AFTER UPDATE OF site_role, network_id ON users
    FOR EACH ROW WHEN (OLD.site_role IS DISTINCT FROM NEW.site_role
                       OR OLD.network_id IS DISTINCT FROM NEW.network_id)
    EXECUTE FUNCTION cf_stamp_member_sessions();
