DROP TABLE django_import_passwords;
DROP TABLE django_import_ids;
DROP TABLE django_import_rejects;
DROP TABLE django_import_media;
DROP TABLE django_import_runs;
