DROP TABLE vision_spend;
ALTER TABLE analysis_jobs DROP COLUMN provider_calls;
ALTER TABLE analysis_jobs DROP COLUMN lease_id;
ALTER TABLE dex_entry_removals DROP COLUMN visibility;
