"""Prompt texts as Markdown files, read by name through ``agent.prompts.load_prompt``."""
