-- Failed sign-ins, counted per account and per client address so that every api replica refuses
-- a guessing run the same way. A key is 'account:<lower email>' or 'ip:<address>'.
CREATE TABLE login_failures (
    key           text PRIMARY KEY,
    failures      integer NOT NULL,
    window_start  timestamptz NOT NULL,
    blocked_until timestamptz
);
