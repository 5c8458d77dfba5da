DROP TABLE analysis_jobs;
