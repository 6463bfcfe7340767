"""Pure-Python core of warroom: models, policies, grammar, metrics. Never imports textual."""
