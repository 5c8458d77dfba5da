-- The visibility an entry had when it left everyone's view (deleted, narrowed), so a sync
-- lists the removal only to viewers who could see it at that level. NULL on older rows.
ALTER TABLE dex_entry_removals ADD COLUMN visibility varchar(10);

-- Each claim of a job gets its own lease id: completing, failing or rescheduling a job is
-- conditional on it, so a worker that ran past its lease changes nothing.
ALTER TABLE analysis_jobs ADD COLUMN lease_id uuid;
-- Provider calls made for the job, across retries and reaper passes (there is a hard limit).
ALTER TABLE analysis_jobs ADD COLUMN provider_calls integer NOT NULL DEFAULT 0;

-- One row per answered provider call with what it cost, whatever became of the job: the daily
-- budget sums this, not completed jobs.
CREATE TABLE vision_spend (
    id bigserial PRIMARY KEY,
    job_id uuid,
    called_at timestamptz NOT NULL DEFAULT now(),
    cost_usd double precision NOT NULL
);
CREATE INDEX vision_spend_called_at_idx ON vision_spend (called_at);
INSERT INTO vision_spend (job_id, called_at, cost_usd)
    SELECT id, completed_at, cost_usd FROM analysis_jobs
    WHERE cost_usd IS NOT NULL AND completed_at IS NOT NULL;
