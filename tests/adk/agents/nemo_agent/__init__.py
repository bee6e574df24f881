# The scripted, LLM-free agent `adk api_server` serves as the app "nemo_agent"
# (see agent.py and tests/adk/README.md).
from . import agent
