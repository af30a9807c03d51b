namespace Ws4Net.Management;

/// <summary>A live topic: its name and its subscribers. Removed from the manager when its last subscriber leaves.</summary>
internal sealed class Topic(string name)
{
    public readonly string Name = name;
    public readonly SlotTable Subscribers = new(closeWhenEmpty: true);
}
