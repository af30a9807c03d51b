using Microsoft.Extensions.DependencyInjection;

namespace Ws4Net.Tests;

/// <summary>The handler contract: one open first, one close last, errors reported and closing with 1011, handler construction.</summary>
public sealed class HandlerSemanticsTests(LoopbackFixture fixture) : IClassFixture<LoopbackFixture>
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task OneOpenBeforeAllMessages_OneCloseAtTheEnd_CallbacksNeverOverlap(bool secure)
    {
        TestServer server = fixture.Get(secure);

        // OnOpenAsync takes 300 ms while the client sends at once: the messages must wait for it.
        (WebSocketConnection client, RecordingHandler handler) = await server.ConnectTrackedAsync<RecordingHandler>("/record", extraQuery: "delay=300");
        await using (client)
        {
            for (int i = 0; i < 5; i++)
            {
                await client.SendTextAsync($"m{i}").WithTimeout();
            }

            await client.SendPingAsync(new byte[] { 0xAB }).WithTimeout();
            await client.SendBinaryAsync(new byte[] { 1, 2, 3 }).WithTimeout();
            for (int i = 0; i < 6; i++)
            {
                await handler.Messages.ReadAsync().WithTimeout();
            }

            await client.CloseAsync().WithTimeout();
        }

        await handler.Closed.WithTimeout();
        await Task.Delay(100); // nothing may follow OnCloseAsync
        IReadOnlyList<string> events = handler.Events;
        Assert.Equal(1, handler.OpenCount);
        Assert.Equal(1, handler.CloseCount);
        Assert.Equal(
            ["open", "text:m0", "text:m1", "text:m2", "text:m3", "text:m4", "ping:AB", "binary:3", "close:1000::True"],
            events);
        Assert.False(handler.CallbacksOverlapped);
    }

    [Fact]
    public async Task ExceptionInOnMessage_GoesToOnError_ClientSees1011_LaterMessagesAreNotDelivered()
    {
        TestServer server = fixture.Plain;
        (WebSocketConnection client, ThrowingHandler handler) = await server.ConnectTrackedAsync<ThrowingHandler>("/throw");
        await using (client)
        {
            await client.SendTextAsync("first").WithTimeout();
            await client.SendTextAsync("throw").WithTimeout();
            await client.SendTextAsync("after").WithTimeout();

            Assert.Null(await client.ReceiveAsync().WithTimeout());
            Assert.Equal(WebSocketCloseCode.InternalError, client.CloseStatus!.Value.Code);
            Assert.True(client.CloseStatus.Value.InitiatedByPeer);
        }

        WebSocketCloseInfo serverSide = await handler.Closed.WithTimeout();
        Assert.Equal(WebSocketCloseCode.InternalError, serverSide.Code);
        Exception error = Assert.Single(handler.Errors);
        Assert.IsType<TestHandlerException>(error);
        Assert.Equal("boom from OnMessageAsync", error.Message);
        IReadOnlyList<string> events = handler.Events;
        Assert.Equal(["open", "text:first", "text:throw", "error:TestHandlerException"], events.Take(4));
        Assert.DoesNotContain("text:after", events);
        Assert.StartsWith("close:1011:", events[^1], StringComparison.Ordinal);
        Assert.Equal(1, handler.CloseCount);
    }

    [Fact]
    public async Task ExceptionInOnOpen_GoesToOnError_ClientSees1011_CloseStillCalledOnce()
    {
        var handlers = new List<ThrowOnOpenHandler>();
        await using TestServer server = await TestServer.StartAsync(map: t => t.Server.Map("/open-throws", _ =>
        {
            var h = new ThrowOnOpenHandler();
            lock (handlers)
            {
                handlers.Add(h);
            }

            return h;
        }));
        await using WebSocketConnection client = await server.ConnectAsync("/open-throws");
        await client.SendTextAsync("ignored").WithTimeout();
        Assert.Null(await client.ReceiveAsync().WithTimeout());
        Assert.Equal(WebSocketCloseCode.InternalError, client.CloseStatus!.Value.Code);

        ThrowOnOpenHandler handler = Assert.Single(handlers);
        await handler.Closed.WithTimeout();
        Assert.IsType<TestHandlerException>(Assert.Single(handler.Errors));
        Assert.Equal(1, handler.CloseCount);
        Assert.DoesNotContain("text:ignored", handler.Events);
    }

    [Fact]
    public async Task MapWithFactory_PassesConstructorArguments_OneHandlerPerConnection()
    {
        var greeter = new Greeter("factory");
        var built = new List<GreetingHandler>();
        await using TestServer server = await TestServer.StartAsync(map: t => t.Server.Map("/greet", _ =>
        {
            var handler = new GreetingHandler(greeter);
            lock (built)
            {
                built.Add(handler);
            }

            return handler;
        }));

        for (int i = 1; i <= 2; i++)
        {
            await using WebSocketConnection client = await server.ConnectAsync("/greet");
            WebSocketMessage? greeting = await client.ReceiveAsync().WithTimeout();
            Assert.Equal($"hello from factory #{i}", greeting!.Value.GetText());
            await client.CloseAsync().WithTimeout();
        }

        Assert.Equal(2, built.Count);
        Assert.NotSame(built[0], built[1]);
    }

    [Fact]
    public async Task MapOfHandlerType_BuildsItFromTheServiceProvider()
    {
        using ServiceProvider services = new ServiceCollection()
            .AddSingleton(new Greeter("di"))
            .BuildServiceProvider();
        await using TestServer server = await TestServer.StartAsync(
            configure: o => o.Services = services,
            map: t => t.Server.Map<GreetingHandler>("/greet"));

        for (int i = 1; i <= 2; i++)
        {
            await using WebSocketConnection client = await server.ConnectAsync("/greet");
            Assert.Equal($"hello from di #{i}", (await client.ReceiveAsync().WithTimeout())!.Value.GetText());
            await client.CloseAsync().WithTimeout();
        }
    }

    [Fact]
    public async Task MapOfHandlerType_WithoutServices_UsesTheParameterlessConstructor()
    {
        await using TestServer server = await TestServer.StartAsync(map: t => t.Server.Map<EchoTestHandler>("/typed-echo"));
        await using WebSocketConnection client = await server.ConnectAsync("/typed-echo");
        await client.SendTextAsync("typed").WithTimeout();
        Assert.Equal("typed", (await client.ReceiveAsync().WithTimeout())!.Value.GetText());
        await client.CloseAsync().WithTimeout();
    }

    [Fact]
    public async Task Handler_HasNoConnectionBeforeAttach_AndServesExactlyOneConnection()
    {
        var handler = new RecordingHandler();
        Assert.Throws<InvalidOperationException>(() => handler.Connection);

        TestServer server = fixture.Plain;
        await using WebSocketConnection first = await server.ConnectAsync("/echo");
        await using WebSocketConnection second = await server.ConnectAsync("/echo");
        Task<WebSocketCloseInfo> running = first.RunAsync(handler);
        await handler.Opened.WithTimeout();
        Assert.Same(first, handler.Connection);
        await Assert.ThrowsAsync<InvalidOperationException>(() => second.RunAsync(handler));

        await first.CloseAsync().WithTimeout();
        Assert.Equal(WebSocketCloseCode.NormalClosure, (await running.WithTimeout()).Code);
        await second.CloseAsync().WithTimeout();
    }

    /// <summary>A dependency with a name and a counter shared by the handlers that use it.</summary>
    internal sealed class Greeter(string name)
    {
        private int _count;

        public string Greet() => $"hello from {name} #{Interlocked.Increment(ref _count)}";
    }

    /// <summary>A handler with a constructor dependency: greets on open.</summary>
    internal sealed class GreetingHandler(Greeter greeter) : WebSocketHandler
    {
        protected override ValueTask OnOpenAsync() => SendTextAsync(greeter.Greet());
    }

    internal sealed class ThrowOnOpenHandler : RecordingHandler
    {
        protected override async ValueTask OnOpenAsync()
        {
            await base.OnOpenAsync();
            throw new TestHandlerException("boom from OnOpenAsync");
        }
    }
}
