/** What the platform checks have the caller say, to draw the answer a case needs. */

/** A long answer, to have one still streaming when the next message is sent. */
export const LONG_QUESTION = 'Tell me everything you can about your products and services, in as much detail as you can.';
/** An agent with an end of call ends it here. */
export const GOODBYE = "That's all I needed, thank you. Goodbye!";
/** An agent with a transfer transfers here. */
export const ASK_FOR_A_HUMAN = 'Please transfer me to a human agent.';
