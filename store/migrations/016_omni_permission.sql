-- The "omni" permission (access to the omnichannel module) now decides whether an operator
-- group's members work on its lines. Before, it was not enforced: every operator group worked
-- as if it had it. So that no desk loses its operators on upgrade, every existing operator group
-- gets it; an admin who means to revoke it unticks it on the group.
UPDATE groups SET permissions = array_append(permissions, 'omni')
WHERE kind = 'operators' AND NOT 'omni' = ANY(permissions);
