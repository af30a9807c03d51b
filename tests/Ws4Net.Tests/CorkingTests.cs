using System.Buffers.Binary;
using Ws4Net.Protocol;

namespace Ws4Net.Tests;

/// <summary>
/// Corking: the replies a handler produces while it processes a batch of received frames leave in one
/// transport write at the end of the batch, not one write per reply; a lone send from elsewhere is
/// written at once.
/// </summary>
public sealed class CorkingTests
{
    [Theory]
    [InlineData(16)]
    [InlineData(100)]
    public async Task Sixteen_pipelined_requests_read_at_once_are_answered_in_one_write(int requests)
    {
        byte[] batch = new byte[requests * (6 + 8)];
        for (int i = 0; i < requests; i++)
        {
            byte[] payload = new byte[8];
            BinaryPrimitives.WriteInt64BigEndian(payload, i);
            RawClient.Frame(2, payload).CopyTo(batch, i * 14);
        }

        var transport = new ScriptedStream(batch);
        var server = new WebSocketConnection(transport, new WebSocketConnectionCreationOptions { Role = WebSocketRole.Server });
        Task run = server.RunAsync(new EchoHandler());
        await transport.Replies(requests).WithTimeout();

        Assert.Equal(1, transport.Writes);
        server.Abort();
        await run.WithTimeout();
    }

    [Fact]
    public async Task A_send_from_another_thread_is_written_at_once_when_the_connection_is_idle()
    {
        var transport = new ScriptedStream([]);
        var server = new WebSocketConnection(transport, new WebSocketConnectionCreationOptions { Role = WebSocketRole.Server });
        Task run = server.RunAsync(new EchoHandler());
        await Task.Run(() => server.SendTextAsync("alone").AsTask()).WithTimeout();
        Assert.Equal(1, transport.Writes);
        server.Abort();
        await run.WithTimeout();
    }

    private sealed class EchoHandler : WebSocketHandler
    {
        protected override ValueTask OnMessageAsync(WebSocketMessage message) => Connection.SendAsync(message.Payload, message.Type, true);
    }

    /// <summary>A transport that delivers one scripted read, then waits; it counts writes and the frames they carry.</summary>
    private sealed class ScriptedStream(byte[] input) : Stream
    {
        private readonly TaskCompletionSource _eof = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly Lock _sync = new();
        private byte[]? _input = input.Length > 0 ? input : null;
        private int _frames;
        private TaskCompletionSource? _waiter;
        private int _waitFor;

        public int Writes { get; private set; }

        public Task Replies(int count)
        {
            lock (_sync)
            {
                _waitFor = count;
                _waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                if (_frames >= count)
                {
                    _waiter.SetResult();
                }

                return _waiter.Task;
            }
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (buffer.IsEmpty)
            {
                if (_input is null)
                {
                    await _eof.Task.WaitAsync(cancellationToken);
                }

                return 0;
            }

            if (_input is { } data)
            {
                _input = null;
                data.CopyTo(buffer);
                return data.Length;
            }

            await _eof.Task.WaitAsync(cancellationToken);
            return 0;
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            lock (_sync)
            {
                Writes++;
                ReadOnlySpan<byte> span = buffer.Span;
                while (span.Length >= 2)
                {
                    int length = span[1] & 0x7F;
                    _frames++;
                    span = span[(2 + length)..];
                }

                if (_waiter is not null && _frames >= _waitFor)
                {
                    _waiter.TrySetResult();
                }
            }

            return default;
        }

        protected override void Dispose(bool disposing)
        {
            _eof.TrySetResult();
            base.Dispose(disposing);
        }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();
    }
}
