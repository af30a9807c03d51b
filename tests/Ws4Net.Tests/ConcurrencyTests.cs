using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Text;
using Ws4Net.Server;

namespace Ws4Net.Tests;

/// <summary>Many concurrent senders on one connection, client side and server side.</summary>
public sealed class ConcurrencyTests(LoopbackFixture fixture) : IClassFixture<LoopbackFixture>
{
    private const int Tasks = 16;
    private const int MessagesPerTask = 200;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ManyTasksSendingOnOneClientConnection_EveryMessageEchoedIntactOnceAndInOrderPerTask(bool secure)
    {
        TestServer server = fixture.Get(secure);
        await using WebSocketConnection client = await server.ConnectAsync("/echo");

        Task<Dictionary<int, int>> receiving = Task.Run(() => ReceiveAndCheckAsync(client, Tasks, MessagesPerTask));
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task[] senders = Enumerable.Range(0, Tasks).Select(task => Task.Run(async () =>
        {
            await start.Task;
            for (int seq = 0; seq < MessagesPerTask; seq++)
            {
                ReceivedMessage message = Build(task, seq);
                if (message.Type == WebSocketMessageKind.Text)
                {
                    await client.SendTextAsync(message.Text);
                }
                else
                {
                    await client.SendBinaryAsync(message.Payload);
                }
            }
        })).ToArray();
        start.SetResult();

        await Task.WhenAll(senders).WithTimeout(TimeSpan.FromSeconds(60));
        Dictionary<int, int> counts = await receiving.WithTimeout(TimeSpan.FromSeconds(60));
        Assert.Equal(Tasks, counts.Count);
        Assert.All(counts.Values, count => Assert.Equal(MessagesPerTask, count));
        await client.CloseAsync().WithTimeout();
    }

    [Fact]
    public async Task ServerHandlerSendingConcurrently_ClientReceivesEveryMessageIntact()
    {
        const int serverTasks = 8;
        const int perTask = 150;
        var sendErrors = new ConcurrentQueue<Exception>();
        await using TestServer server = await TestServer.StartAsync(map: t =>
            t.Server.Map("/flood", _ => new FloodHandler(serverTasks, perTask, sendErrors)));
        await using WebSocketConnection client = await server.ConnectAsync("/flood");

        Dictionary<int, int> counts = await ReceiveAndCheckAsync(client, serverTasks, perTask).WithTimeout(TimeSpan.FromSeconds(60));
        Assert.Equal(serverTasks, counts.Count);
        Assert.All(counts.Values, count => Assert.Equal(perTask, count));
        Assert.Empty(sendErrors);
        await client.CloseAsync().WithTimeout();
    }

    /// <summary>
    /// A message identified by (task, seq): a 8-byte header [task, seq] then bytes derived from both,
    /// 1 in 8 of them large (50-100 KB), the others up to 4 KB; every third one is text.
    /// </summary>
    private static ReceivedMessage Build(int task, int seq)
    {
        var random = new Random((task * 100_003) + seq);
        int size = seq % 8 == 3 ? random.Next(50_000, 100_001) : random.Next(0, 4097);
        if (seq % 3 == 0)
        {
            var text = new StringBuilder($"{task:D2}|{seq:D4}|");
            while (text.Length < size)
            {
                text.Append((char)('a' + ((task + seq + text.Length) % 26))).Append('é');
            }

            return new ReceivedMessage(WebSocketMessageKind.Text, Encoding.UTF8.GetBytes(text.ToString()));
        }

        byte[] data = new byte[Math.Max(size, 8)];
        random.NextBytes(data);
        BinaryPrimitives.WriteInt32BigEndian(data, task);
        BinaryPrimitives.WriteInt32BigEndian(data.AsSpan(4), seq);
        return new ReceivedMessage(WebSocketMessageKind.Binary, data);
    }

    private static (int Task, int Seq) Identify(ReceivedMessage message)
    {
        if (message.Type == WebSocketMessageKind.Text)
        {
            string[] parts = message.Text.Split('|', 3);
            return (int.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture), int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture));
        }

        return (BinaryPrimitives.ReadInt32BigEndian(message.Payload), BinaryPrimitives.ReadInt32BigEndian(message.Payload.AsSpan(4)));
    }

    /// <summary>Receives tasks × perTask messages and checks each is intact, unique and next in its task's order.</summary>
    private static async Task<Dictionary<int, int>> ReceiveAndCheckAsync(WebSocketConnection connection, int tasks, int perTask)
    {
        var next = new Dictionary<int, int>();
        for (int i = 0; i < tasks * perTask; i++)
        {
            WebSocketMessage? message = await connection.ReceiveAsync();
            Assert.True(message.HasValue, $"connection closed after {i} messages: {connection.CloseStatus}");
            var received = ReceivedMessage.From(message.Value);
            (int task, int seq) = Identify(received);
            Assert.InRange(task, 0, tasks - 1);
            int expectedSeq = next.GetValueOrDefault(task);
            Assert.Equal(expectedSeq, seq); // per-task order, no duplicate, no gap
            ReceivedMessage expected = Build(task, seq);
            Assert.Equal(expected.Type, received.Type);
            Assert.True(expected.Payload.AsSpan().SequenceEqual(received.Payload), $"message {task}/{seq} corrupted");
            next[task] = seq + 1;
        }

        return next;
    }

    /// <summary>On open, starts many concurrent senders (not awaited by OnOpenAsync), each sending its messages in order.</summary>
    private sealed class FloodHandler(int tasks, int perTask, ConcurrentQueue<Exception> errors) : WebSocketHandler
    {
        protected override ValueTask OnOpenAsync()
        {
            for (int t = 0; t < tasks; t++)
            {
                int task = t;
                _ = Task.Run(async () =>
                {
                    try
                    {
                        for (int seq = 0; seq < perTask; seq++)
                        {
                            ReceivedMessage message = Build(task, seq);
                            await Connection.SendAsync(message.Payload, message.Type, true);
                        }
                    }
                    catch (Exception ex)
                    {
                        errors.Enqueue(ex);
                    }
                });
            }

            return ValueTask.CompletedTask;
        }
    }
}
