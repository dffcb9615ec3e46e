"""The PyPI ``ocpp`` package (mobilityhouse) as a 1.6 JSON charge point on aiohttp: the independent peer of
hwsim's Central System tests and of the benchmarks' memory and CPU figures."""

from __future__ import annotations

import aiohttp


class AiohttpConnection:
    """What ``ocpp``'s ChargePoint reads and writes (``recv``/``send`` of text frames), on aiohttp."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws

    async def recv(self) -> str:
        msg = await self.ws.receive()
        if msg.type != aiohttp.WSMsgType.TEXT:
            raise ConnectionError(f"WebSocket {msg.type.name}")
        return str(msg.data)

    async def send(self, text: str) -> None:
        await self.ws.send_str(text)
