namespace Ws4Net.Management;

/// <summary>One subscription of a connection: the topic and the connection's slot in its subscriber table.</summary>
internal readonly record struct TopicSubscription(Topic Topic, int Slot);
