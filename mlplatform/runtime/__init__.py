"""Code that runs in AWS at runtime (Lambda handlers), not in the Pulumi program.

Modules here use only the standard library and boto3 (which the Lambda Python runtime
provides), so each handler ships as a single file and its deployment package stays tiny.
"""
