"""Write side: verbs that take plain values and the acting user, check permissions and rules, and write in one transaction."""
