"""AI drafting: research, prompts, the offline composer, agents, persona, personalisation and usage."""
