"""A scripted Google ADK agent that calls no language model.

`adk api_server tests/adk/agents` serves it as the app `nemo_agent`, the app name
this API's `/run_sse` body carries. It yields fixed events chosen by the words of
the user's message, so the conformance suite (tests/adk/*.test.mjs) knows exactly
what a real ADK server sends for each behaviour. It mirrors the agent that
recorded tests/fixtures/adk/: every turn opens with "Hello from nemo_agent. You
said: <message>", then the steps the message names, in this order:

  word in the message   what the agent yields
  -------------------   ----------------------------------------------------------
  thought               a thought part (`thought: true`)
  tool                  a function call get_weather, its response with a state
                        delta {"last_city": "Paris"}, then a state-only event
                        {"step": "weather_done"}
  artifact              one event with content and an artifact delta (it saves
                        report.txt); ADK's /run_sse splits it into two events
                        that share one id
  stream                "The weather in Paris is 21.5°C and sunny ☀️." as four
                        partial deltas (200 ms apart) then the complete text when
                        the request asked for streaming; else only the complete
  multilingual          the fixtures' multilingual text (CJK, emoji, U+2028,
                        U+2029, NEL, CRLF, quotes), then a long one (~36 KB)
  pause                 "Working... (sleeping 3s)", 3 s of silence (no
                        heartbeat), "Done after 3s."
  error                 raises RuntimeError("simulated agent failure (message
                        was '<message>')") after the greeting
  weather               every step above except error, as in the captures

A message naming none of them gets the greeting alone.
"""

from __future__ import annotations

import asyncio
from typing import AsyncGenerator

from google.adk.agents import BaseAgent
from google.adk.agents.invocation_context import InvocationContext
from google.adk.agents.run_config import StreamingMode
from google.adk.events import Event, EventActions
from google.genai import types

PAUSE_SECONDS = 3.0
STREAM_GAP_SECONDS = 0.2

WEATHER_TEXT = "The weather in Paris is 21.5°C and sunny ☀️."
WEATHER_CHUNKS = ["The weather ", "in Paris is ", "21.5°C ", "and sunny ☀️."]

# Byte for byte the text in tests/fixtures/adk/run_sse_basic.sse.
MULTILINGUAL_TEXT = (
    "Line 1: plain ASCII.\n"
    "Line 2: \u4e2d\u6587\u6d4b\u8bd5 \u2014\u2014 \u4f60\u597d\uff0c\u4e16\u754c\uff01\n"
    "Line 3: emoji \U0001f680\U0001f44d\U0001f3fd\U0001f469\u200d\U0001f4bb (astral, skin tone, ZWJ)\n"
    "\n"
    'Line 5 after a blank line: quotes " and backslash \\ and tab \t end\n'
    'Line 6: looks like SSE inside the payload -> data: {"fake":1}\n'
    "\n"
    "Line 8: CRLF follows\r\n"
    "Line 9: U+2028 [\u2028] U+2029 [\u2029] NEL [\x85] are not SSE line breaks\n"
    "Line 10: end."
)

# Long enough to cross many socket reads, so multi-byte characters land on
# chunk boundaries somewhere.
LONG_TEXT = "".join(
    f"{i:03d} 视频剪辑 ✂️🎬 {'日本語テキスト' if i % 2 else '한국어 텍스트'}"
    f" [\u2028] [\u2029] [\x85] \U0001f469\u200d\U0001f4bb Ünïcödé\n"
    for i in range(400)
) + "END."

ALL_STEPS = ("thought", "tool", "artifact", "stream", "multilingual", "pause")


def _text(text: str, **kw) -> types.Content:
  return types.Content(role="model", parts=[types.Part(text=text, **kw)])


class ScriptedAgent(BaseAgent):
  """Yields fixed events; never calls a model."""

  async def _run_async_impl(
      self, ctx: InvocationContext
  ) -> AsyncGenerator[Event, None]:
    message = ""
    if ctx.user_content and ctx.user_content.parts:
      message = "".join(p.text or "" for p in ctx.user_content.parts)
    words = message.lower()
    streaming = (
        ctx.run_config is not None
        and ctx.run_config.streaming_mode == StreamingMode.SSE
    )

    def event(**kw) -> Event:
      return Event(author=self.name, invocation_id=ctx.invocation_id, **kw)

    yield event(content=_text(f"Hello from nemo_agent. You said: {message}"))

    if "error" in words:
      raise RuntimeError(f"simulated agent failure (message was {message!r})")

    steps = ALL_STEPS if "weather" in words else [s for s in ALL_STEPS if s in words]

    if "thought" in steps:
      yield event(content=_text("I should call get_weather.", thought=True))

    if "tool" in steps:
      yield event(
          content=types.Content(
              role="model",
              parts=[
                  types.Part(
                      function_call=types.FunctionCall(
                          id="adk-call-weather-1",
                          name="get_weather",
                          args={"city": "Paris", "unit": "celsius"},
                      )
                  )
              ],
          )
      )
      yield event(
          content=types.Content(
              role="user",
              parts=[
                  types.Part(
                      function_response=types.FunctionResponse(
                          id="adk-call-weather-1",
                          name="get_weather",
                          response={
                              "city": "Paris",
                              "temperature_c": 21.5,
                              "conditions": "sunny",
                          },
                      )
                  )
              ],
          ),
          actions=EventActions(state_delta={"last_city": "Paris"}),
      )
      yield event(actions=EventActions(state_delta={"step": "weather_done"}))

    if "artifact" in steps:
      version = 0
      if ctx.artifact_service is not None:
        version = await ctx.artifact_service.save_artifact(
            app_name=ctx.app_name,
            user_id=ctx.user_id,
            session_id=ctx.session.id,
            filename="report.txt",
            artifact=types.Part(text="Paris: 21.5°C, sunny"),
        )
      yield event(
          content=_text("Saved report.txt."),
          actions=EventActions(artifact_delta={"report.txt": version}),
      )

    if "stream" in steps:
      if streaming:
        for i, chunk in enumerate(WEATHER_CHUNKS):
          if i:
            await asyncio.sleep(STREAM_GAP_SECONDS)
          yield event(content=_text(chunk), partial=True)
        await asyncio.sleep(STREAM_GAP_SECONDS)
      yield event(
          content=_text(WEATHER_TEXT),
          partial=False if streaming else None,
          model_version="scripted-no-llm",
          finish_reason=types.FinishReason.STOP,
          usage_metadata=types.GenerateContentResponseUsageMetadata(
              prompt_token_count=12,
              candidates_token_count=9,
              total_token_count=21,
          ),
      )

    if "multilingual" in steps:
      yield event(content=_text(MULTILINGUAL_TEXT))
      if "weather" not in words:
        yield event(content=_text(LONG_TEXT))

    if "pause" in steps:
      yield event(content=_text("Working... (sleeping 3s)"))
      await asyncio.sleep(PAUSE_SECONDS)
      yield event(content=_text("Done after 3s."))


root_agent = ScriptedAgent(
    name="nemo_agent",
    description="A scripted agent for conformance tests; calls no LLM.",
)
