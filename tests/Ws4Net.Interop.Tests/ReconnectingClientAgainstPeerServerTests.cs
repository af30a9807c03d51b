using System.Globalization;
using System.Threading.Channels;
using Ws4Net.Client;
using Ws4Net.Interop.Tests.Infrastructure;
using Ws4Net.Protocol;

namespace Ws4Net.Interop.Tests;

/// <summary>
/// <see cref="ReconnectingWebSocketClient"/> against third-party servers (Python <c>websockets</c>, Node <c>ws</c>)
/// that are killed and started again on the same port while the client sends: it reconnects, re-runs its hook
/// and delivers what was sent while the server was down. A missing peer fails the test (see <see cref="TestEnvironment"/>).
/// </summary>
public sealed class ReconnectingClientAgainstPeerServerTests
{
    [Theory]
    [InlineData("python-websockets")]
    [InlineData("node-ws")]
    public async Task PeerKilledAndRestarted_ClientReconnects_AndDeliversTheBufferedMessages(string peerName)
    {
        (string executable, string script) = peerName == "node-ws"
            ? (TestEnvironment.RequireNodeWithPeerModules(), TestEnvironment.PeerScript("node-echo-server.mjs"))
            : (TestEnvironment.RequirePythonWebsockets(), TestEnvironment.PeerScript("py-echo-server.py"));

        (PeerProcess peer, int port) = await PeerProcess.StartServerAsync(executable, script, Timeouts.PeerStartup);
        PeerProcess? restarted = null;
        try
        {
            var echoes = Channel.CreateUnbounded<string>();
            var states = Channel.CreateUnbounded<ReconnectingWebSocketState>();
            int hooks = 0;
            var options = new ReconnectingWebSocketClientOptions
            {
                InitialReconnectDelay = TimeSpan.FromMilliseconds(50),
                MaxReconnectDelay = TimeSpan.FromMilliseconds(500),
                SendBufferCapacity = 16,
                OnConnectedAsync = (connection, token) => connection.SendTextAsync($"hello #{Interlocked.Increment(ref hooks)}", token),
                OnMessageAsync = message =>
                {
                    echoes.Writer.TryWrite(message.GetText());
                    return ValueTask.CompletedTask;
                },
            };
            options.Client.ConnectTimeout = Timeouts.Step;
            await using var client = new ReconnectingWebSocketClient(new Uri($"ws://127.0.0.1:{port}/echo"), options);
            client.StateChanged += (_, e) => states.Writer.TryWrite(e.State);

            await client.StartAsync().WaitAsync(Timeouts.Step);
            Assert.True(await client.SendTextAsync("first").AsTask().WaitAsync(Timeouts.Step));
            Assert.Equal("hello #1", await NextAsync(echoes, peer));
            Assert.Equal("first", await NextAsync(echoes, peer));

            peer.Dispose();   // killed: no close frame, the client sees the transport end (1006)
            while (await states.Reader.ReadAsync().AsTask().WaitAsync(Timeouts.Step) != ReconnectingWebSocketState.WaitingToReconnect)
            {
                // Connecting and Open from the start; a message sent before the client has seen the drop may be lost with the socket.
            }

            Assert.True(await client.SendTextAsync("while down 1").AsTask().WaitAsync(Timeouts.Step));
            Assert.True(await client.SendTextAsync("while down 2").AsTask().WaitAsync(Timeouts.Step));

            restarted = await StartOnPortAsync(executable, script, port);
            Assert.Equal("hello #2", await NextAsync(echoes, restarted));
            Assert.Equal("while down 1", await NextAsync(echoes, restarted));
            Assert.Equal("while down 2", await NextAsync(echoes, restarted));
            Assert.Equal(2, client.ConnectCount);
            Assert.Equal(WebSocketCloseCode.AbnormalClosure, client.LastCloseStatus!.Value.Code);

            await client.CloseAsync().AsTask().WaitAsync(Timeouts.Step);
            Assert.Equal(ReconnectingWebSocketState.Closed, client.State);
        }
        finally
        {
            peer.Dispose();
            restarted?.Dispose();
        }
    }

    private static async Task<string> NextAsync(Channel<string> echoes, PeerProcess peer)
    {
        try
        {
            return await echoes.Reader.ReadAsync().AsTask().WaitAsync(Timeouts.Step);
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"no echo within {Timeouts.Step}\n{peer.Transcript}", ex);
        }
    }

    /// <summary>Starts the peer on <paramref name="port"/>, retrying while the killed one's socket still holds it.</summary>
    private static async Task<PeerProcess> StartOnPortAsync(string executable, string script, int port)
    {
        for (int attempt = 1; ; attempt++)
        {
            PeerProcess peer = PeerProcess.Start(executable, [script, "--port", port.ToString(CultureInfo.InvariantCulture), "--ignore-stdin"], Path.GetDirectoryName(script)!);
            try
            {
                await peer.WaitForStdoutLineAsync(l => l.StartsWith("LISTENING ", StringComparison.Ordinal), Timeouts.PeerStartup).WaitAsync(Timeouts.PeerStartup * 2);
                return peer;
            }
            catch (Exception) when (attempt < 20)
            {
                peer.Dispose();
                await Task.Delay(250);
            }
        }
    }
}
