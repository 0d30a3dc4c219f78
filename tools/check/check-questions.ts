/** What the platform checks have the caller say, to draw the answer a case needs. */

/** A long answer, to have one still streaming when the next message is sent. */
export const LONG_QUESTION = 'Tell me everything you can about your products and services, in as much detail as you can.';
/** An agent with an end of call ends it here. */
export const GOODBYE = "That's all I needed, thank you. Goodbye!";
/** An agent with a transfer transfers here. */
export const ASK_FOR_A_HUMAN = 'Please transfer me to a human agent.';
/** A menu read out: an agent that presses keys (pressDigits) presses one here. */
export const PRESS_A_KEY = 'To continue in English, please press 1 now.';
/** The caller switches to Chinese ("where is my order?"): an auto-language Twilio agent switches the session. */
export const IN_CHINESE = '你好，我的订单现在在哪里？';
