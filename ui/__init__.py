"""Streamlit-aware helpers shared by Home.py and pages/: cached service access, widgets, formatting."""
