// The composer's built-in emoji: `:name` finds them by their English or Russian name.
export interface Emoji {
  char: string;
  en: string[];
  ru: string[];
}

const e = (char: string, en: string, ru: string): Emoji => ({ char, en: en.split(" "), ru: ru.split(" ") });

export const emoji: Emoji[] = [
  e("😀", "smile grin happy", "улыбка радость"),
  e("😃", "smiley joy", "улыбка смех"),
  e("😄", "laugh happy", "смех радость"),
  e("😁", "beaming grin", "ухмылка"),
  e("😆", "laughing", "хохот"),
  e("😅", "sweat_smile phew", "фух пот"),
  e("😂", "joy tears_of_joy lol", "слезы_радости ржу"),
  e("🙂", "slight_smile", "лёгкая_улыбка"),
  e("😉", "wink", "подмигивание"),
  e("😊", "blush pleased", "смущение довольный"),
  e("😇", "angel innocent", "ангел"),
  e("😍", "love heart_eyes", "влюблён"),
  e("😘", "kiss", "поцелуй"),
  e("😋", "yum tasty", "вкусно"),
  e("😎", "cool sunglasses", "круто очки"),
  e("🤔", "thinking hmm", "думаю хм"),
  e("🤗", "hug", "обнимаю"),
  e("🤝", "handshake deal", "рукопожатие сделка"),
  e("😐", "neutral", "нейтрально"),
  e("😑", "expressionless", "без_эмоций"),
  e("🙄", "eye_roll", "закатываю_глаза"),
  e("😏", "smirk", "ухмылка_хитрая"),
  e("😔", "pensive", "грусть_задумчивость"),
  e("😢", "cry sad", "плачу грустно"),
  e("😭", "sob", "рыдаю"),
  e("😡", "angry rage", "злой ярость"),
  e("😠", "mad", "сердитый"),
  e("😱", "scream shock", "ужас шок"),
  e("😳", "flushed", "смущён_покраснел"),
  e("😴", "sleep", "сон сплю"),
  e("🤒", "sick ill", "болею"),
  e("🤐", "zipper_mouth secret", "молчу секрет"),
  e("🤷", "shrug", "пожимаю_плечами"),
  e("🙏", "pray please thanks", "пожалуйста спасибо молюсь"),
  e("👍", "thumbsup like ok yes", "лайк класс да"),
  e("👎", "thumbsdown dislike no", "дизлайк нет"),
  e("👌", "ok_hand perfect", "окей отлично"),
  e("👋", "wave hello bye", "привет пока"),
  e("👏", "clap applause", "аплодисменты хлопаю"),
  e("💪", "muscle strong", "сила мышцы"),
  e("✌️", "victory peace", "победа мир"),
  e("🤞", "crossed_fingers luck", "скрестил_пальцы удача"),
  e("👉", "point_right", "указываю_вправо"),
  e("👀", "eyes look", "глаза смотрю"),
  e("❤️", "heart love", "сердце любовь"),
  e("💔", "broken_heart", "разбитое_сердце"),
  e("💯", "hundred", "сто"),
  e("🔥", "fire hot lit", "огонь"),
  e("⭐", "star", "звезда"),
  e("✨", "sparkles", "блеск искры"),
  e("🎉", "tada party congrats", "праздник поздравляю"),
  e("🎁", "gift present", "подарок"),
  e("🎂", "cake birthday", "торт день_рождения"),
  e("☕", "coffee", "кофе"),
  e("🍕", "pizza", "пицца"),
  e("🌹", "rose flower", "роза цветок"),
  e("☀️", "sun", "солнце"),
  e("🌧️", "rain", "дождь"),
  e("❄️", "snow", "снег"),
  e("⚡", "zap lightning", "молния"),
  e("✅", "check done yes", "галочка готово"),
  e("❌", "cross no wrong", "крестик нет"),
  e("⚠️", "warning", "внимание предупреждение"),
  e("❗", "exclamation important", "восклицание важно"),
  e("❓", "question", "вопрос"),
  e("ℹ️", "info information", "информация"),
  e("⏳", "hourglass wait", "ожидание песочные_часы"),
  e("⏰", "alarm clock", "будильник"),
  e("📅", "calendar date", "календарь дата"),
  e("📞", "phone call", "телефон звонок"),
  e("📧", "email mail", "почта письмо"),
  e("📦", "package parcel box", "посылка коробка"),
  e("🚚", "truck delivery", "доставка грузовик"),
  e("💳", "card payment", "карта оплата"),
  e("💰", "money", "деньги"),
  e("🧾", "receipt", "чек"),
  e("🔒", "lock secure", "замок безопасно"),
  e("🔑", "key", "ключ"),
  e("🔧", "wrench fix", "ключ_гаечный ремонт"),
  e("💡", "bulb idea", "идея лампочка"),
  e("📎", "paperclip attachment", "скрепка вложение"),
  e("🚀", "rocket fast", "ракета быстро"),
  e("🙌", "raised_hands hooray", "ура"),
];

/** findEmoji lists the emoji whose name in either language starts with q (then those containing it). */
export function findEmoji(q: string, limit = 8): Emoji[] {
  const s = q.toLowerCase();
  if (!s) return [];
  const names = (x: Emoji) => [...x.en, ...x.ru];
  const starts = emoji.filter((x) => names(x).some((n) => n.startsWith(s)));
  const contains = emoji.filter((x) => !starts.includes(x) && names(x).some((n) => n.includes(s)));
  return [...starts, ...contains].slice(0, limit);
}
