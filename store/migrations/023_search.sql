-- Search (issue 12, X09): messages, contacts and conversations by their words, in Russian and
-- English at once. PostgreSQL's 'russian' configuration stems Cyrillic words with the Russian
-- Snowball stemmer and Latin ones with the English one, so one vector serves both languages
-- ("заказы" finds "заказ", "orders" finds "order").
--
-- A message's vector is stored, not an index expression: a frequent word is then found by
-- walking the newest messages and testing the stored vector (cheap), a rare one through the GIN
-- index; the planner picks by the column's statistics.
ALTER TABLE messages ADD COLUMN search tsvector
    GENERATED ALWAYS AS (to_tsvector('russian'::regconfig, text)) STORED;
CREATE INDEX messages_search_idx ON messages USING gin (search);
CREATE INDEX messages_created_idx ON messages (created_at DESC, id DESC) WHERE conversation_number IS NOT NULL;

-- Contacts by the words of their name, their address and their phone as digits ('simple': names
-- are not stemmed, and a prefix finds "Иванов" from "иван").
CREATE INDEX contacts_search_idx ON contacts USING gin
    (to_tsvector('simple'::regconfig, name || ' ' || email || ' ' || phone_digits(phone)));

-- Conversations by title and solution.
CREATE INDEX conversations_search_idx ON conversations USING gin
    (to_tsvector('russian'::regconfig, title || ' ' || solution));
