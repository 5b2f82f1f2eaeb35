"""Writes for programs: applications and approvals, batches, payments, loans
and mutual aid. One module per use case."""
