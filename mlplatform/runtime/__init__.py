"""Code that runs in AWS at runtime (Lambda handlers), not in the Pulumi program.

Modules here use only the standard library and boto3 (which the Lambda Python runtime
provides), so each handler ships alone and its deployment package stays tiny: the drift
handler as one file, the fallback handler as the package :mod:`.fallback` (its modules import
each other relatively, so the package runs under any name, ``fallback`` in its zip).
"""
