-- Contact merge (issue 12, X02): the same person writing from Telegram and by email is two
-- contacts until an operator merges them. The merged contact's identities, chats, conversations,
-- calls and leads move to the one kept, so both histories are one client's; its row stays, marked
-- merged_into, for what still names it (a running workflow's input), and lists and search leave
-- it out.
ALTER TABLE contacts ADD COLUMN merged_into bigint REFERENCES contacts (id);
