"""CloudWatch Logs facts the platform reads (AWS's, not ours): the retention values a log group accepts."""

from __future__ import annotations

#: The only ``retentionInDays`` values CloudWatch Logs accepts (PutRetentionPolicy, shape
#: ``Days`` of the botocore ``logs`` service model); 0 or unset means "never expire", which
#: the platform never uses (MLP-RET-001).
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
                      3288, 3653)
