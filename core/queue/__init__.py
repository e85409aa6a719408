"""The contact queue: research, proposals, review and approval (issue 5)."""
