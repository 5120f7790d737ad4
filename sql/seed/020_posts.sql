INSERT INTO notes_post (id, author_id, title, body, published) VALUES (1, 1, 'Hello', 'First post', 1);
INSERT INTO notes_post (id, author_id, title, body, published) VALUES (2, 2, 'Draft', NULL, 0);
