-- Public keys are embedded in web pages: they keep project:read and
-- schema:read only (`read` becomes both; a key left with nothing keeps
-- project:read, which shows no more than the public profile).
UPDATE api_keys SET roles = CASE
    WHEN ',' || roles || ',' LIKE '%,read,%'
        OR (',' || roles || ',' LIKE '%,project:read,%' AND ',' || roles || ',' LIKE '%,schema:read,%')
        THEN 'project:read,schema:read'
    WHEN ',' || roles || ',' LIKE '%,schema:read,%' THEN 'schema:read'
    ELSE 'project:read'
END
WHERE NOT is_private AND roles NOT IN ('project:read', 'schema:read', 'project:read,schema:read');
