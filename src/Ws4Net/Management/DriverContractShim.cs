// TEMPORARY: stand-ins for the driver API the lead lands on main ("Driver API:" commit). This whole
// file is deleted when that commit is merged; nothing else in the manager changes.
#pragma warning disable CS1591
#pragma warning disable SA1402, SA1649
using Ws4Net.Protocol;

namespace Ws4Net.Protocol
{
    public sealed class WebSocketPreparedMessage : IDisposable
    {
        private readonly byte[] _payload;

        private WebSocketPreparedMessage(WebSocketMessageType type, byte[] payload)
        {
            Type = type;
            _payload = payload;
        }

        public WebSocketMessageType Type { get; }

        public ReadOnlyMemory<byte> Payload => _payload;

        public int Length => _payload.Length;

        public static WebSocketPreparedMessage Create(WebSocketMessageType type, ReadOnlySpan<byte> payload, bool? compress = null)
            => new(type, payload.ToArray());

        public static WebSocketPreparedMessage CreateText(string text, bool? compress = null)
            => new(WebSocketMessageType.Text, System.Text.Encoding.UTF8.GetBytes(text));

        public void Dispose()
        {
        }
    }
}

namespace Ws4Net
{
    public enum WebSocketSendStatus
    {
        Sent,
        Queued,
        Dropped,
        Closed,
    }

    public static class DriverContractShim
    {
        public static WebSocketSendStatus TrySend(this WebSocketConnection connection, WebSocketPreparedMessage message)
        {
            if (connection.State != WebSocketConnectionState.Open)
            {
                return WebSocketSendStatus.Closed;
            }

            try
            {
                ValueTask send = connection.SendAsync(message.Payload, message.Type, true);
                if (send.IsCompletedSuccessfully)
                {
                    return WebSocketSendStatus.Sent;
                }

                _ = ObserveAsync(send);
                return WebSocketSendStatus.Queued;
            }
            catch (WebSocketClosedException)
            {
                return WebSocketSendStatus.Closed;
            }
        }

        public static WebSocketSendStatus TrySendText(this WebSocketConnection connection, string text)
        {
            using var message = WebSocketPreparedMessage.CreateText(text);
            return connection.TrySend(message);
        }

        public static void StartClose(this WebSocketConnection connection, WebSocketCloseCode code, string? reason = null)
            => connection.SendCloseInBackground(code, reason ?? string.Empty);

        private static async Task ObserveAsync(ValueTask send)
        {
            try
            {
                await send.ConfigureAwait(false);
            }
            catch (WebSocketClosedException)
            {
            }
        }
    }
}

namespace Ws4Net
{
    public enum WebSocketBackpressurePolicy
    {
        DropMessage,
        ClosePolicyViolation,
        CloseTryAgainLater,
    }

    public static class DriverContractOptionsShim
    {
        extension(WebSocketConnectionOptions options)
        {
            public TimeSpan KeepAliveInterval { get => TimeSpan.FromSeconds(20); set { } }

            public TimeSpan KeepAliveTimeout { get => TimeSpan.FromSeconds(20); set { } }

            public TimeSpan IdleTimeout { get => TimeSpan.Zero; set { } }

            public int SendHighWaterMark { get => 64 * 1024; set { } }

            public int MaxBufferedAmount { get => 1024 * 1024; set { } }

            public WebSocketBackpressurePolicy BackpressurePolicy { get => WebSocketBackpressurePolicy.DropMessage; set { } }
        }
    }
}

namespace Ws4Net
{
    public static class DriverContractConnectionShim
    {
        extension(WebSocketConnection connection)
        {
            public long BufferedAmount => 0;
        }
    }
}
