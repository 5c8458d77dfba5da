DROP TABLE admin_sessions;
DROP TABLE admin_audit_log;
