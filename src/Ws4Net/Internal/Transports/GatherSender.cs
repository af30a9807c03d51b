using System.Net.Sockets;
using System.Threading.Tasks.Sources;

namespace Ws4Net.Internal.Transports;

/// <summary>
/// A reusable <see cref="SocketAsyncEventArgs"/> that sends an ordered list of buffers in one gather
/// call and exposes the completion as a <see cref="ValueTask"/> without allocating. One send at a time.
/// </summary>
internal sealed class GatherSender : SocketAsyncEventArgs, IValueTaskSource
{
    private readonly List<ArraySegment<byte>> _list = [];
    private ManualResetValueTaskSourceCore<bool> _source = new() { RunContinuationsAsynchronously = false };
    private Socket? _socket;
    private int _remaining;

    public GatherSender()
        : base(unsafeSuppressExecutionContextFlow: true)
    {
    }

    public ValueTask SendAsync(Socket socket, IReadOnlyList<ArraySegment<byte>> buffers, int totalBytes)
    {
        _list.Clear();
        for (int i = 0; i < buffers.Count; i++)
        {
            _list.Add(buffers[i]);
        }

        _socket = socket;
        _remaining = totalBytes;
        _source.Reset();
        if (Start())
        {
            return new ValueTask(this, _source.Version);
        }

        BufferList = null;
        _list.Clear();
        return default;
    }

    /// <summary>Starts (or continues after a partial send) the gather send; true when it completes asynchronously.</summary>
    private bool Start()
    {
        while (true)
        {
            BufferList = null;
            BufferList = _list;
            if (_socket!.SendAsync(this))
            {
                return true;
            }

            if (SocketError != SocketError.Success)
            {
                throw new SocketException((int)SocketError);
            }

            if (!Advance(BytesTransferred))
            {
                return false;
            }
        }
    }

    /// <summary>Drops what a partial send delivered; false when everything is sent.</summary>
    private bool Advance(int sent)
    {
        _remaining -= sent;
        if (_remaining <= 0)
        {
            return false;
        }

        while (sent > 0)
        {
            ArraySegment<byte> first = _list[0];
            if (sent >= first.Count)
            {
                sent -= first.Count;
                _list.RemoveAt(0);
            }
            else
            {
                _list[0] = first.Slice(sent);
                sent = 0;
            }
        }

        return true;
    }

    protected override void OnCompleted(SocketAsyncEventArgs e)
    {
        try
        {
            if (SocketError != SocketError.Success)
            {
                _source.SetException(new SocketException((int)SocketError));
                return;
            }

            if (Advance(BytesTransferred) && Start())
            {
                return;
            }

            _source.SetResult(true);
        }
        catch (Exception ex)
        {
            _source.SetException(ex);
        }
    }

    void IValueTaskSource.GetResult(short token)
    {
        try
        {
            _source.GetResult(token);
        }
        finally
        {
            BufferList = null;
            _list.Clear();
        }
    }

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _source.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
        => _source.OnCompleted(continuation, state, token, flags);
}
