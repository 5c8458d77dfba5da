DROP TABLE dex_entry_removals;
DROP TABLE dex_entries;
