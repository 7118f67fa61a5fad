"""The only Streamlit-aware part of lib/: cached handle, current user, language, navigation, shared widgets."""
